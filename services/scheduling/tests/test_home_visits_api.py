"""Home-visit schedules for central-tier and group-1 cadres: who, how often, by whom, done or not, overdue; on SQLite
and PostgreSQL, called as the gateway calls the service."""

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from contracts.enums import CadreStatus, EncounterKind, ManagementTier
from contracts.events.clinical import ClinicalRecordRecorded, RecordSummary
from contracts.events.registry import CadreDied
from scheduling.domain import add_months

API = "/home-visits"


def home_visit_record(cadre_id: uuid.UUID, occurred_on: date, record_id: uuid.UUID) -> ClinicalRecordRecorded:
    return ClinicalRecordRecorded(
        record=RecordSummary(
            record_id=record_id,
            version=1,
            kind=EncounterKind.HOME_VISIT,
            cadre_id=cadre_id,
            facility="68-PK-BAN",
            external_id="HV-1",
            occurred_on=occurred_on,
            at_home=True,
        )
    )


async def test_schedules_visits_done_and_overdue(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any) -> None:
    admin, board = sign_as(k.ADMIN), sign_as(k.LAMDONG)
    leader = await k.register(feed, tier=ManagementTier.CENTRAL, status=CadreStatus.RETIRED, full_name="Nguyễn Văn Trung")
    group1 = await k.register(feed, tier=ManagementTier.PROVINCIAL_1, full_name="Trần Văn Một")
    group2 = await k.register(feed, tier=ManagementTier.PROVINCIAL_2)
    started = k.TODAY - timedelta(days=100)
    visitor = "BS. Trần Thị Lan, Phòng khám – Quản lý sức khỏe cán bộ"

    overdue = await client.post(
        f"{API}/schedules",
        json={"cadre_id": str(leader.id), "every_months": 3, "visitor": visitor, "starts_on": started.isoformat()},
        headers=admin,
    )
    assert overdue.status_code == 201, overdue.text
    assert overdue.headers["x-audit-subjects"] == str(leader.id)
    assert (overdue.json()["state"], overdue.json()["days_overdue"]) == ("overdue", 100)
    soon = await client.post(
        f"{API}/schedules",
        json={
            "cadre_id": str(group1.id),
            "every_months": 1,
            "visitor": visitor,
            "starts_on": (k.TODAY + timedelta(10)).isoformat(),
        },
        headers=board,
    )
    assert soon.status_code == 201 and soon.json()["state"] == "up_to_date"

    # refusals: not central or group 1; a second active schedule; a cadre outside the caller's scope
    refused = await client.post(
        f"{API}/schedules",
        json={"cadre_id": str(group2.id), "every_months": 3, "visitor": visitor, "starts_on": k.TODAY.isoformat()},
        headers=board,
    )
    assert refused.status_code == 422 and refused.json()["code"] == "not_eligible"
    assert refused.json()["errors"][0]["loc"] == ["cadre_id"] and "central-tier and group-1" in refused.json()["errors"][0]["msg"]
    twice = await client.post(
        f"{API}/schedules",
        json={"cadre_id": str(group1.id), "every_months": 2, "visitor": visitor, "starts_on": k.TODAY.isoformat()},
        headers=board,
    )
    assert twice.status_code == 409
    bad = await client.post(
        f"{API}/schedules",
        json={"cadre_id": str(group1.id), "every_months": 0, "visitor": visitor, "starts_on": k.TODAY.isoformat()},
        headers=board,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "every_months"]
    # the provincial board has no grant on the central tier: the leader's schedule does not exist for it
    assert (await client.get(f"{API}/schedules/{overdue.json()['id']}", headers=board)).status_code == 404
    assert (await client.get(f"{API}/schedules/{soon.json()['id']}", headers=sign_as(k.DALAT))).status_code == 404
    assert [s["cadre_id"] for s in (await client.get(f"{API}/schedules", headers=board)).json()["items"]] == [str(group1.id)]

    # the overdue list; the visit done; the next due date; as of a later date both are overdue
    listed = (await client.get(f"{API}/overdue", headers=admin)).json()
    assert [(s["cadre_id"], s["days_overdue"]) for s in listed["items"]] == [(str(leader.id), 100)]
    assert listed["items"][0]["full_name"] == "Nguyễn Văn Trung" and listed["items"][0]["visitor"] == visitor
    done_on = k.TODAY - timedelta(days=5)
    done = await client.post(
        f"{API}/schedules/{overdue.json()['id']}/visits",
        json={"done_on": done_on.isoformat(), "note": "huyết áp ổn định"},
        headers=admin,
    )
    assert done.status_code == 201, done.text
    assert done.json()["next_due_on"] == add_months(done_on, 3).isoformat() and done.json()["state"] == "up_to_date"
    [visit] = done.json()["visits"]
    assert (visit["due_on"], visit["done_on"], visit["visitor"]) == (started.isoformat(), done_on.isoformat(), visitor)
    assert (await client.get(f"{API}/overdue", headers=admin)).json()["total"] == 0
    later = add_months(done_on, 3) + timedelta(days=1)
    assert (await client.get(f"{API}/overdue", params={"as_of": later.isoformat()}, headers=admin)).json()["total"] == 2
    future = await client.post(
        f"{API}/schedules/{overdue.json()['id']}/visits", json={"done_on": (k.TODAY + timedelta(1)).isoformat()}, headers=admin
    )
    assert future.status_code == 422 and future.json()["errors"][0]["loc"] == ["done_on"]
    assert (
        await client.post(
            f"{API}/schedules/{soon.json()['id']}/visits", json={"done_on": k.TODAY.isoformat()}, headers=sign_as(k.DALAT)
        )
    ).status_code == 404

    # a home-visit record posted to clinical marks the group-1 cadre's visit done, once per record
    record_id = uuid.uuid4()
    for _ in range(2):
        await feed(home_visit_record(group1.id, k.TODAY, record_id))
    by_clinical = (await client.get(f"{API}/schedules/{soon.json()['id']}", headers=board)).json()
    assert [v["clinical_record_id"] for v in by_clinical["visits"]] == [str(record_id)]
    assert (
        by_clinical["last_visit_on"] == k.TODAY.isoformat() and by_clinical["next_due_on"] == add_months(k.TODAY, 1).isoformat()
    )

    # a deceased cadre's schedule ends; it leaves the lists; ending by hand needs a reason
    await feed(CadreDied(cadre=leader.model_copy(update={"status": CadreStatus.DECEASED}), effective_date=k.TODAY))
    ended = (await client.get(f"{API}/schedules/{overdue.json()['id']}", headers=admin)).json()
    assert (ended["active"], ended["state"], ended["ended_reason"]) == (False, "ended", "deceased")
    assert (await client.get(f"{API}/overdue", params={"as_of": later.isoformat()}, headers=admin)).json()["total"] == 1
    no_reason = await client.post(f"{API}/schedules/{soon.json()['id']}/end", json={}, headers=board)
    assert no_reason.status_code == 422
    stopped = await client.post(f"{API}/schedules/{soon.json()['id']}/end", json={"reason": "chuyển nơi cư trú"}, headers=board)
    assert stopped.status_code == 200 and stopped.json()["state"] == "ended"
    everything = await client.get(f"{API}/schedules", params={"include_ended": "true"}, headers=admin)
    assert everything.json()["total"] == 2 and (await client.get(f"{API}/schedules", headers=admin)).json()["total"] == 0
