"""Expert-council clinic days (two days a month) as bookable sessions with a capacity; on SQLite and PostgreSQL."""

from typing import Any

import httpx

from contracts.enums import CadreStatus, ManagementTier
from contracts.events.registry import CadreDied

PLACE = "Phòng khám – Quản lý sức khỏe cán bộ, 04 Phạm Ngọc Thạch, Đà Lạt"


async def test_series_sessions_bookings_capacity_and_refusals(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any) -> None:
    board = sign_as(k.LAMDONG)
    cadres = [await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name=f"Võ Văn {i}") for i in range(3)]
    outsider = await k.register(feed, tier=ManagementTier.DISTRICT, managing_unit="VN.68.672")

    series = {
        "board_unit": "VN.68",
        "year": k.YEAR,
        "from_month": 1,
        "months": 3,
        "days_of_month": [10, 25],
        "capacity": 2,
        "place": PLACE,
    }
    created = await client.post("/clinic-sessions/series", json=series, headers=board)
    assert created.status_code == 201, created.text
    days = [s["held_on"] for s in created.json()["created"]]
    assert days == [k.day(m, d) for m in (1, 2, 3) for d in (10, 25)]
    again = await client.post("/clinic-sessions/series", json={**series, "months": 4}, headers=board)
    assert again.status_code == 201
    assert ([s["held_on"] for s in again.json()["created"]], again.json()["already_existed"]) == ([k.day(4, 10), k.day(4, 25)], 6)
    duplicate = await client.post(
        "/clinic-sessions", json={"board_unit": "VN.68", "held_on": k.day(1, 10), "capacity": 5, "place": PLACE}, headers=board
    )
    assert duplicate.status_code == 409
    past = await client.post("/clinic-sessions/series", json={**series, "year": k.TODAY.year - 1}, headers=board)
    assert past.status_code == 422 and past.json()["errors"][0]["loc"] == ["from_month"]
    bad_day = await client.post("/clinic-sessions/series", json={**series, "days_of_month": [0]}, headers=board)
    assert bad_day.status_code == 422 and bad_day.json()["errors"][0]["loc"][:2] == ["body", "days_of_month"]

    january = (await client.get("/clinic-sessions", params={"from": k.day(1, 1), "to": k.day(1, 31)}, headers=board)).json()
    assert [(s["held_on"], s["capacity"], s["free"]) for s in january] == [(k.day(1, 10), 2, 2), (k.day(1, 25), 2, 2)]
    session_id = january[0]["id"]

    async def book(cadre: Any, who: dict[str, str] = board) -> httpx.Response:
        body = {"cadre_id": str(cadre.id), "reason": "hội chẩn tim mạch"}
        return await client.post(f"/clinic-sessions/{session_id}/bookings", json=body, headers=who)

    first = await book(cadres[0])
    assert first.status_code == 201 and first.json()["held_on"] == k.day(1, 10)
    assert first.headers["x-audit-subjects"] == str(cadres[0].id)
    assert (await book(cadres[0])).status_code == 409
    assert (await book(cadres[1])).status_code == 201
    full = await book(cadres[2])
    assert full.status_code == 422 and full.json()["code"] == "session_full"
    assert full.json()["errors"][0]["msg"] == "capacity exceeded: 2 of 2 places booked"
    # a district cadre of Đà Lạt is not the provincial council's to book (read-only to the province)
    assert (await book(outsider)).status_code == 403
    assert (await book(cadres[2], sign_as(k.DALAT))).status_code == 404  # Đà Lạt does not see the province's days
    cancelled = await client.post(f"/clinic-bookings/{first.json()['id']}/cancel", json={"reason": "đã khỏi"}, headers=board)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await book(cadres[2])).status_code == 201
    assert (await book(cadres[0])).status_code == 422  # the freed place was taken
    listed = await client.get(f"/clinic-sessions/{session_id}/bookings", headers=board)
    assert [b["full_name"] for b in listed.json()] == ["Võ Văn 1", "Võ Văn 2"]
    assert (await client.get(f"/clinic-sessions/{session_id}", headers=board)).json()["free"] == 0

    # a deceased cadre's booking on a day ahead is cancelled
    await feed(CadreDied(cadre=cadres[1].model_copy(update={"status": CadreStatus.DECEASED}), effective_date=k.TODAY))
    after = (
        await client.get(f"/clinic-sessions/{session_id}/bookings", params={"include_cancelled": "true"}, headers=board)
    ).json()
    assert {b["full_name"]: (b["status"], b["cancelled_reason"]) for b in after}["Võ Văn 1"] == ("cancelled", "deceased")
    assert (await client.get(f"/clinic-sessions/{session_id}", headers=board)).json()["booked"] == 1
