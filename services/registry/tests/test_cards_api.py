"""Health-care cards on SQLite and PostgreSQL: issue, re-issue when printed details change, look-up by a facility."""

from datetime import UTC, datetime

from registry_testkit import DALAT, HIS, Api

from servicekit import clock


async def test_cards_issue_reissue_and_lookup(api: Api) -> None:
    cadre = await api.create()
    first = await api.post(f"/cadres/{cadre['id']}/cards", json={})
    assert first.status_code == 201 and first.json()["valid"]
    looked = await api.get(f"/cards/{first.json()['number']}", HIS)
    assert looked.status_code == 200 and looked.json()["valid"] and looked.json()["cadre_id"] == cadre["id"]
    assert looked.headers["x-audit-subjects"] == cadre["id"]
    await api.patch(f"/cadres/{cadre['id']}", json={"full_name": "Nguyễn Văn Đức Anh"})  # printed on the card: re-issued
    cards = (await api.get(f"/cadres/{cadre['id']}/cards")).json()
    assert len(cards) == 2
    old = next(c for c in cards if c["number"] == first.json()["number"])
    new = next(c for c in cards if c["number"] != first.json()["number"])
    assert not old["valid"] and old["replaced_by"] == new["number"] and new["valid"]
    stale = (await api.get(f"/cards/{old['number']}", HIS)).json()
    assert stale["valid"] is False and stale["current_card_number"] == new["number"]
    assert (await api.get("/cards/68-26-00000000", HIS)).status_code == 404
    elsewhere = await api.create(managing_unit="VN.67")
    number = (await api.post(f"/cadres/{elsewhere['id']}/cards", json={})).json()["number"]
    assert (await api.get(f"/cards/{number}", HIS)).status_code == 404  # outside the hospital's province
    assert (await api.get(f"/cards/{number}", DALAT)).status_code == 403  # no look-up permission


# 01:30 on 28 November in Vietnam, while the UTC date is still the 27th: the board's "today" is Vietnam's.
VIETNAM_NIGHT = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)


async def test_a_card_is_issued_on_vietnams_date(api: Api) -> None:
    cadre = await api.create()
    with clock.frozen_at(VIETNAM_NIGHT):
        first = await api.post(f"/cadres/{cadre['id']}/cards", json={})
        again = await api.post(f"/cadres/{cadre['id']}/cards", json={"reason": "lost"})
    assert first.status_code == 201 and first.json()["issued_on"] == "2026-11-28"
    assert first.json()["number"].startswith("68-26-")
    cards = {c["number"]: c for c in (await api.get(f"/cadres/{cadre['id']}/cards")).json()}
    assert cards[first.json()["number"]]["invalidated_on"] == "2026-11-28"
    assert cards[again.json()["number"]]["issued_on"] == "2026-11-28"
