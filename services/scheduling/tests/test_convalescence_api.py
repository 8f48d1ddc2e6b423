"""Convalescence trips (nghỉ dưỡng): eligibility as versioned data, quota, registrations refused with their reason,
"6 of 14 registered" figures and the events reporting counts; on SQLite and PostgreSQL."""

from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from contracts.enums import CadreStatus, ManagementTier
from contracts.events.registry import CadreDied

API = "/convalescence"
T, S = ManagementTier, CadreStatus


def trip_body(k: Any, starts_on: date, quota: int, **overrides: Any) -> dict[str, Any]:
    return {
        "board_unit": "VN.68",
        "title": f"Nghỉ dưỡng cán bộ hưu trí đợt {starts_on.month}/{starts_on.year}",
        "destination": "Khu nghỉ dưỡng Vũng Tàu",
        "starts_on": starts_on.isoformat(),
        "ends_on": date(starts_on.year, starts_on.month, starts_on.day + 6).isoformat(),
        "quota": quota,
        **overrides,
    }


async def test_rules_trips_registrations_refusals_and_figures(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, app: FastAPI
) -> None:
    admin, board = sign_as(k.ADMIN), sign_as(k.LAMDONG)
    retired1 = [await k.register(feed, tier=T.PROVINCIAL_1, status=S.RETIRED, full_name=f"Lê Văn {i}") for i in range(5)]
    active1 = await k.register(feed, tier=T.PROVINCIAL_1, status=S.ACTIVE)
    retired2 = await k.register(feed, tier=T.PROVINCIAL_2, status=S.RETIRED, full_name="Phạm Thị Hai")
    leader = await k.register(feed, tier=T.CENTRAL, status=S.RETIRED)

    # version 1: retired leaders (central tier and group 1), once every two years
    rule = {"board_unit": "VN.68", "valid_from": date(k.YEAR - 3, 1, 1).isoformat(), "tiers": ["central", "provincial_1"]}
    first_rule = await client.post(f"{API}/rules", json=rule, headers=board)
    assert first_rule.status_code == 201, first_rule.text
    assert (first_rule.json()["version"], first_rule.json()["statuses"], first_rule.json()["interval_years"]) == (
        1,
        ["retired"],
        2,
    )

    trip_a = await client.post(f"{API}/trips", json=trip_body(k, date(k.YEAR, 6, 1), quota=3), headers=board)
    assert trip_a.status_code == 201, trip_a.text
    a = trip_a.json()
    assert (a["rule_version"], a["registered"], a["eligible"], a["summary"]) == (1, 0, 6, "0 of 6 registered")

    async def register(trip: dict[str, Any], cadre: Any, who: dict[str, str] = board) -> httpx.Response:
        return await client.post(f"{API}/trips/{trip['id']}/registrations", json={"cadre_id": str(cadre.id)}, headers=who)

    first = await register(a, retired1[0])
    assert first.status_code == 201 and first.json()["status"] == "registered"
    assert first.headers["x-audit-subjects"] == str(retired1[0].id)
    second = await register(a, retired1[1])
    assert second.status_code == 201
    for cadre in (active1, retired2):
        refused = await register(a, cadre)
        assert refused.status_code == 422 and refused.json()["code"] == "not_eligible"
        assert refused.json()["errors"][0]["loc"] == ["cadre_id"] and refused.json()["errors"][0]["msg"].startswith(
            "not eligible"
        )
    assert (await register(a, retired1[0])).status_code == 409
    assert (await register(a, leader)).status_code == 404  # the provincial board has no grant on the central tier
    assert (await register(a, leader, admin)).status_code == 201
    full = await register(a, retired1[2])
    assert full.status_code == 422 and full.json()["code"] == "quota_full"
    assert full.json()["errors"][0]["msg"] == "quota full: 3 of 3 places taken"
    cancelled = await client.post(
        f"{API}/registrations/{second.json()['id']}/cancel", json={"reason": "sức khỏe không cho phép"}, headers=board
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await register(a, retired1[2])).status_code == 201
    figures = (await client.get(f"{API}/trips/{a['id']}", headers=board)).json()
    assert (figures["registered"], figures["eligible"], figures["summary"]) == (3, 6, "3 of 6 registered")
    names = [r["full_name"] for r in (await client.get(f"{API}/trips/{a['id']}/registrations", headers=board)).json()]
    assert names == ["Lê Văn 0", "Lê Văn 2"]  # the central-tier leader is outside the board's read scope

    # version 2 from July: groups 1 and 2, once a year. Trip A keeps version 1; a later trip takes version 2.
    later_rule = {**rule, "valid_from": date(k.YEAR, 7, 1).isoformat(), "tiers": ["provincial_1", "provincial_2"]}
    second_rule = await client.post(f"{API}/rules", json={**later_rule, "interval_years": 1}, headers=board)
    assert second_rule.status_code == 201 and second_rule.json()["version"] == 2
    trip_b = (await client.post(f"{API}/trips", json=trip_body(k, date(k.YEAR + 1, 3, 1), quota=10), headers=board)).json()
    assert trip_b["rule_version"] == 2
    assert (await client.get(f"{API}/trips/{a['id']}", headers=board)).json()["rule_version"] == 1
    went = await register(trip_b, retired1[0])
    assert went.status_code == 422 and went.json()["code"] == "already_within_period"
    assert "already went within the period" in went.json()["errors"][0]["msg"]
    assert (await register(trip_b, retired2)).status_code == 201  # eligible under version 2
    b = (await client.get(f"{API}/trips/{trip_b['id']}", headers=board)).json()
    # group 1 and 2 retirees (6), less the two who went on trip A within the year
    assert (b["registered"], b["eligible"], b["summary"]) == (1, 4, "1 of 4 registered")
    eligible = (await client.get(f"{API}/trips/{trip_b['id']}/eligible", headers=board)).json()
    assert sorted(c["full_name"] for c in eligible["items"]) == ["Lê Văn 1", "Lê Văn 3", "Lê Văn 4"]
    assert eligible["total"] == 3

    # bad trips and out-of-scope readers
    no_rule = await client.post(f"{API}/trips", json=trip_body(k, date(k.YEAR - 4, 6, 1), quota=5), headers=board)
    assert no_rule.status_code == 422 and no_rule.json()["errors"][0]["loc"] == ["starts_on"]
    backwards = trip_body(k, date(k.YEAR, 8, 10), quota=5, ends_on=date(k.YEAR, 8, 1).isoformat())
    answer = await client.post(f"{API}/trips", json=backwards, headers=board)
    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["ends_on"]
    assert (await client.post(f"{API}/trips", json=trip_body(k, date(k.YEAR, 8, 10), quota=0), headers=board)).status_code == 422
    dalat = sign_as(k.DALAT)
    assert (await client.get(f"{API}/trips/{a['id']}", headers=dalat)).status_code == 404
    assert (await client.get(f"{API}/trips", headers=dalat)).json() == []
    assert (await client.post(f"{API}/rules", json=rule, headers=dalat)).status_code == 403

    # a deceased cadre's registration for a trip ahead is cancelled; events for reporting
    await feed(CadreDied(cadre=retired2.model_copy(update={"status": S.DECEASED}), effective_date=k.TODAY))
    assert (await client.get(f"{API}/trips/{trip_b['id']}", headers=board)).json()["registered"] == 0
    published = await k.outbox_events(app, "vn.cadrecare.scheduling.convalescence.trip_published")
    assert [(e.quota, e.eligible) for _, e in published] == [(3, 6), (10, 4)]  # type: ignore[attr-defined]
    registered = await k.outbox_events(app, "vn.cadrecare.scheduling.convalescence.registered")
    assert len(registered) == 5
    envelope, event = registered[0]
    assert (envelope.managing_unit, envelope.tier, event.cadre_id) == ("VN.68", T.PROVINCIAL_1, retired1[0].id)  # type: ignore[attr-defined]
    withdrawn = await k.outbox_events(app, "vn.cadrecare.scheduling.convalescence.registration_cancelled")
    assert [e.reason for _, e in withdrawn] == ["sức khỏe không cho phép", "deceased"]  # type: ignore[attr-defined]
