"""Rules -> plan -> invitations with slots, on SQLite and PostgreSQL, called as the gateway calls the service."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from contracts.enums import CadreStatus, ManagementTier
from contracts.events.registry import CadreRegistered, CadreTierChanged


async def test_bad_plans_are_refused_with_the_reason_and_change_nothing(
    k: Any, client: httpx.AsyncClient, sign_as: Any, app: FastAPI
) -> None:
    rules = (await client.post("/cadence-rules", json=k.rules_body(), headers=sign_as(k.LAMDONG))).json()
    before = await k.outbox_count(app)
    good = k.plan_body(rules["id"])

    outside = k.plan_body(rules["id"])
    outside["rounds"][1]["ends_on"] = date(k.YEAR + 1, 1, 10).isoformat()
    answer = await client.post("/plans", json=outside, headers=sign_as(k.LAMDONG))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["rounds", 1, "ends_on"]
    assert "outside its plan's year" in answer.json()["errors"][0]["msg"]

    overlapping = k.plan_body(rules["id"])
    overlapping["rounds"][1]["starts_on"] = k.day(3, 10)
    answer = await client.post("/plans", json=overlapping, headers=sign_as(k.LAMDONG))
    assert answer.status_code == 422
    assert any("overlapping rounds for the same group" in e["msg"] for e in answer.json()["errors"])

    unknown_facility = k.plan_body(rules["id"])
    unknown_facility["rounds"][0]["groups"][0]["facility"] = "NOWHERE"
    answer = await client.post("/plans", json=unknown_facility, headers=sign_as(k.LAMDONG))
    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["rounds", 0, "groups", 0, "facility"]

    schema = await client.post(
        "/plans", json={**good, "facilities": [{**good["facilities"][0], "daily_capacity": 0}]}, headers=sign_as(k.LAMDONG)
    )
    assert schema.status_code == 422 and schema.json()["errors"][0]["loc"][:3] == ["body", "facilities", 0]

    # a district board may not plan for provincial cadres
    forbidden = await client.post("/plans", json={**good, "board_unit": "VN.68.672"}, headers=sign_as(k.DALAT))
    assert forbidden.status_code in (403, 422)
    assert await k.outbox_count(app) == before
    assert (await client.get("/plans", headers=sign_as(k.LAMDONG))).json() == []


async def test_generation_takes_the_roster_as_of_the_plan_date_gives_slots_and_is_idempotent(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, app: FastAPI
) -> None:
    group1 = [await k.register(feed, tier=ManagementTier.PROVINCIAL_1, full_name=f"Trần Văn {i}") for i in range(3)]
    group2 = [await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name=f"Lê Thị {i}") for i in range(4)]
    baoloc = await k.register(feed, tier=ManagementTier.PROVINCIAL_2, managing_unit="VN.68.673", full_name="Phạm Văn Bảo")
    retired2 = await k.register(feed, tier=ManagementTier.PROVINCIAL_2, status=CadreStatus.RETIRED)
    # promoted to group 1 only after the plan date: the plan still sees group 2 (once a year)
    promoted = await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name="Võ Văn Thăng")
    await feed(
        CadreTierChanged(
            cadre=promoted.model_copy(update={"tier": ManagementTier.PROVINCIAL_1}),
            previous_tier=ManagementTier.PROVINCIAL_2,
            effective_date=k.TODAY + timedelta(days=30),
        )
    )
    # registered with a status from after the plan date: not on the roster as of the plan date
    later = k.snapshot(tier=ManagementTier.PROVINCIAL_2, status_since=k.TODAY + timedelta(days=3))
    await feed(CadreRegistered(cadre=later), at=datetime.now(UTC) + timedelta(days=3))
    # not examined: district tier (another board), treatment-only, deceased
    await k.register(feed, tier=ManagementTier.DISTRICT, managing_unit="VN.68.672")
    await k.register(feed, tier=ManagementTier.TREATMENT_ONLY)
    await k.register(feed, tier=ManagementTier.PROVINCIAL_2, status=CadreStatus.DECEASED)

    plan = await k.make_plan(client, sign_as)
    events_before = await k.outbox_count(app)
    first = await client.post(f"/plans/{plan['id']}/generate", headers=sign_as(k.LAMDONG))
    assert first.status_code == 200, first.text
    # group 1 twice (3 x 2), group 2 once (4 + Bảo Lộc + retiree + promoted-later)
    assert first.json() == {"plan_id": plan["id"], "invited": 13, "already_invited": 0, "by_round": {"1": 10, "2": 3}}

    invitations = await k.invitations_of(client, sign_as, plan_id=plan["id"])
    assert len(invitations) == 13
    by_cadre = Counter(i["cadre_id"] for i in invitations)
    assert all(by_cadre[str(c.id)] == 2 for c in group1)
    assert all(by_cadre[str(c.id)] == 1 for c in [*group2, baoloc, retired2, promoted])
    mine = next(i for i in invitations if i["cadre_id"] == str(promoted.id))
    assert mine["tier"] == "provincial_2" and mine["round_number"] == 1
    assert next(i for i in invitations if i["cadre_id"] == str(retired2.id))["cadre_status"] == "retired"
    # the more specific group sends Bảo Lộc's cadre to the local centre
    assert next(i for i in invitations if i["cadre_id"] == str(baoloc.id))["facility"] == "68-TTYT-BL"
    # slots: within the round, never more than the daily capacity (2 at the provincial hospital)
    per_day = Counter((i["facility"], i["appointment_date"]) for i in invitations)
    assert max(n for (f, _), n in per_day.items() if f == "68-BVDK") == 2
    round1 = [i for i in invitations if i["round_number"] == 1]
    assert all(k.day(3, 2) <= i["appointment_date"] <= k.day(3, 13) for i in round1)
    assert sorted({i["appointment_date"] for i in round1 if i["facility"] == "68-BVDK"}) == [k.day(3, d) for d in range(2, 7)]
    assert all(i["status"] == "invited" and i["attempt"] == 0 for i in invitations)

    # one InvitationIssued per invitation, in the outbox of the same transaction, readable by any consumer
    issued = await k.outbox_events(app, "vn.cadrecare.scheduling.invitation.issued")
    assert len(issued) == 13 == await k.outbox_count(app) - events_before
    envelope, event = issued[0]
    assert envelope.subject == str(event.invitation_id)  # type: ignore[attr-defined]
    assert envelope.managing_unit in {"VN.68", "VN.68.673"} and envelope.tier is not None
    assert {str(e.invitation_id) for _, e in issued} == {i["id"] for i in invitations}  # type: ignore[attr-defined]

    second = await client.post(f"/plans/{plan['id']}/generate", headers=sign_as(k.LAMDONG))
    assert second.json()["invited"] == 0 and second.json()["already_invited"] == 13
    assert len(await k.invitations_of(client, sign_as, plan_id=plan["id"])) == 13

    # a cadre added to the roster later, then a third run: only the newcomer, after the booked days
    newcomer = await k.register(feed, tier=ManagementTier.PROVINCIAL_3, status_since=date(2021, 5, 1))
    third = await client.post(f"/plans/{plan['id']}/generate", headers=sign_as(k.LAMDONG))
    assert third.json()["invited"] == 0  # already invited on arrival (the plan was generated: "next rounds")
    mine = await k.invitations_of(client, sign_as, cadre_id=str(newcomer.id))
    assert len(mine) == 1 and mine[0]["appointment_date"] > max(
        i["appointment_date"] for i in round1 if i["facility"] == "68-BVDK"
    )


async def test_capacity_exceeded_refuses_the_generation(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, app: FastAPI
) -> None:
    for i in range(5):
        await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name=f"Cán bộ {i}")
    body = k.plan_body("00000000-0000-0000-0000-000000000000")
    body["rounds"][0]["ends_on"] = k.day(3, 3)  # two days x 2 a k.day = 4 slots for 5 cadres
    rules = (await client.post("/cadence-rules", json=k.rules_body(), headers=sign_as(k.LAMDONG))).json()
    plan = (await client.post("/plans", json={**body, "rule_set_id": rules["id"]}, headers=sign_as(k.LAMDONG))).json()
    before = await k.outbox_count(app)
    answer = await client.post(f"/plans/{plan['id']}/generate", headers=sign_as(k.LAMDONG))
    assert answer.status_code == 422
    assert answer.json()["code"] == "capacity_exceeded"
    assert "round 1 at 68-BVDK needs 5 slots, 4 are free" in answer.json()["errors"][0]["msg"]
    assert await k.invitations_of(client, sign_as, plan_id=plan["id"]) == []
    assert await k.outbox_count(app) == before


async def test_scope_of_plans_and_invitations(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any) -> None:
    await k.register(feed, tier=ManagementTier.PROVINCIAL_2)
    plan = await k.make_plan(client, sign_as)
    await client.post(f"/plans/{plan['id']}/generate", headers=sign_as(k.LAMDONG))
    invitation = (await k.invitations_of(client, sign_as, plan_id=plan["id"]))[0]
    assert (await client.get(f"/invitations/{invitation['id']}", headers=sign_as(k.DALAT))).status_code == 404
    assert await k.invitations_of(client, sign_as, k.DALAT) == []
    assert (await client.get(f"/plans/{plan['id']}", headers=sign_as(k.DALAT))).status_code == 404
    refused = await client.post(f"/invitations/{invitation['id']}/status", json={"status": "confirmed"}, headers=sign_as(k.DALAT))
    assert refused.status_code == 404
    assert (await client.post(f"/plans/{plan['id']}/generate", headers=sign_as(k.DALAT))).status_code == 404
    read = await client.get(f"/invitations/{invitation['id']}", headers=sign_as(k.LAMDONG))
    assert read.status_code == 200 and read.headers["x-audit-subjects"] == invitation["cadre_id"]
    assert read.json()["status"] == "invited"
    assert (await client.get("/invitations")).status_code == 401
