"""Follow-ups from clinical records (a re-exam appointment: QĐ 130's XML14) as a board sees them: listed with
filters, overdue by Vietnam's date, done or cancelled, replaced by a corrected version, cancelled by a withdrawal,
redelivered without doubling, within scope; on SQLite and PostgreSQL, events fed through the real consumers."""

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from contracts.enums import EncounterKind, ManagementTier
from contracts.events.clinical import (
    ClinicalRecordAmended,
    ClinicalRecordRecorded,
    ClinicalRecordWithdrawn,
    FollowUpSummary,
    RecordSummary,
)
from contracts.events.registry import CadreDied, CadreRegistered
from scheduling import projections
from servicekit.testing.events import EventFeed

API = "/follow-ups"


def summary(cadre_id: uuid.UUID, record_id: uuid.UUID, version: int, dues: list[date | None], **more: Any) -> RecordSummary:
    """A record version asking for one follow-up per due date (notes as XML14's mapping writes them)."""
    items = [FollowUpSummary(index=i, due_by=due, note=f"Tái khám (giấy hẹn {i + 1})") for i, due in enumerate(dues)]
    return RecordSummary(
        record_id=record_id,
        version=version,
        kind=EncounterKind.OUTPATIENT_VISIT,
        cadre_id=cadre_id,
        facility="68-BVDK",
        external_id="LK-2026-0001",
        occurred_on=date(2026, 1, 5),
        needs_follow_up=bool(items),
        follow_ups=items,
        **more,
    )


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = await client.get(API, params={"limit": 200, **params}, headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def by_position(client: httpx.AsyncClient, headers: dict[str, str], record_id: uuid.UUID) -> dict[int, dict[str, Any]]:
    items = (await listed(client, headers))["items"]
    return {item["position"]: item for item in items if item["record_id"] == str(record_id)}


async def test_listed_filtered_overdue_and_paged(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any) -> None:
    board = sign_as(k.LAMDONG)
    cadre = await k.register(feed, full_name="Trần Văn An")
    district = await k.register(feed, tier=ManagementTier.DISTRICT, managing_unit="VN.68.672", full_name="Lê Thị Bình")
    record = uuid.uuid4()
    ahead, late = k.TODAY + timedelta(days=20), k.TODAY - timedelta(days=5)
    await feed(ClinicalRecordRecorded(record=summary(cadre.id, record, 1, [ahead, late, None])))
    await feed(ClinicalRecordRecorded(record=summary(district.id, uuid.uuid4(), 1, [k.TODAY])))
    await feed(ClinicalRecordRecorded(record=summary(cadre.id, uuid.uuid4(), 1, [])))  # no follow-up asked

    found = await listed(client, board)
    assert found["total"] == 4
    # the most overdue first, those without a date last
    assert [(i["due_on"], i["status"], i["days_overdue"]) for i in found["items"]] == [
        (late.isoformat(), "overdue", 5),
        (k.TODAY.isoformat(), "open", 0),
        (ahead.isoformat(), "open", 0),
        (None, "open", 0),
    ]
    first = found["items"][0]
    assert (first["facility"], first["note"], first["record_id"], first["position"]) == (
        "68-BVDK",
        "Tái khám (giấy hẹn 2)",
        str(record),
        1,
    )
    assert (first["record_kind"], first["record_external_id"], first["full_name"]) == (
        "outpatient_visit",
        "LK-2026-0001",
        "Trần Văn An",
    )
    assert [i["due_on"] for i in (await listed(client, board, status="overdue"))["items"]] == [late.isoformat()]
    assert (await listed(client, board, status="open"))["total"] == 3
    assert (await listed(client, board, status="done"))["total"] == 0
    assert [i["due_on"] for i in (await listed(client, board, due_before=k.TODAY.isoformat()))["items"]] == [late.isoformat()]
    assert [i["due_on"] for i in (await listed(client, board, due_after=k.TODAY.isoformat()))["items"]] == [ahead.isoformat()]
    assert [i["cadre_id"] for i in (await listed(client, board, unit="VN.68.672"))["items"]] == [str(district.id)]
    paged = await client.get(API, params={"limit": 1, "offset": 1}, headers=board)
    assert paged.status_code == 200 and paged.json()["total"] == 4
    assert [i["due_on"] for i in paged.json()["items"]] == [k.TODAY.isoformat()]
    assert paged.headers["x-audit-subjects"] == str(district.id)
    bad = await client.get(API, params={"status": "late", "due_before": "soon"}, headers=board)
    assert bad.status_code == 422
    assert {tuple(e["loc"][-1:]) for e in bad.json()["errors"]} == {("status",), ("due_before",)}


async def test_redelivered_events_change_nothing(k: Any, client: httpx.AsyncClient, sign_as: Any, app: FastAPI) -> None:
    events = EventFeed(projections.consumers(app.state.runtime))
    board = sign_as(k.LAMDONG)
    cadre = k.snapshot()
    await events.send(CadreRegistered(cadre=cadre))
    record = uuid.uuid4()
    recorded = ClinicalRecordRecorded(record=summary(cadre.id, record, 1, [k.TODAY + timedelta(days=30)]))
    await events.send(recorded)
    before = await listed(client, board)
    await events.redeliver_all()  # the same events again (a consumer that lost its position)
    await events.send(recorded)  # the same content as a new event (a producer that sent it twice)
    after = await listed(client, board)
    assert after == before and after["total"] == 1


async def test_correction_replaces_and_withdrawal_cancels(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any) -> None:
    board = sign_as(k.LAMDONG)
    cadre = await k.register(feed)
    record = uuid.uuid4()
    d = [k.TODAY + timedelta(days=n) for n in (10, 20, 30, 40)]
    await feed(ClinicalRecordRecorded(record=summary(cadre.id, record, 1, [d[0], d[1], d[2]])))
    one = await by_position(client, board, record)
    done = await client.post(f"{API}/{one[1]['id']}/done", json={}, headers=board)
    assert done.status_code == 200, done.text

    # version 2 moves the first appointment and drops the third: the second, done by the board, stays done
    await feed(ClinicalRecordAmended(record=summary(cadre.id, record, 2, [d[3], d[1]]), previous_version=1))
    two = await by_position(client, board, record)
    assert two[0]["id"] == one[0]["id"] and (two[0]["due_on"], two[0]["status"], two[0]["record_version"]) == (
        d[3].isoformat(),
        "open",
        2,
    )
    assert (two[1]["status"], two[1]["closed_by"]) == ("done", "user:lamdong")
    assert (two[2]["status"], two[2]["closed_note"]) == ("cancelled", "no longer in version 2 of the clinical record")

    # version 3 asks for the third again: reopened; a replay of version 2 afterwards changes nothing
    await feed(ClinicalRecordAmended(record=summary(cadre.id, record, 3, [d[3], d[1], d[2]]), previous_version=2))
    await feed(ClinicalRecordAmended(record=summary(cadre.id, record, 2, [d[3]]), previous_version=1))
    three = await by_position(client, board, record)
    assert [three[p]["status"] for p in range(3)] == ["open", "done", "open"]
    assert three[2]["id"] == one[2]["id"] and three[2]["closed_on"] is None

    # withdrawn: what is open is cancelled, what the board did stands
    withdrawn = summary(cadre.id, record, 3, [d[3], d[1], d[2]], status="withdrawn")
    await feed(ClinicalRecordWithdrawn(record=withdrawn, reason="posted for the wrong patient"))
    gone = await by_position(client, board, record)
    assert [gone[p]["status"] for p in range(3)] == ["cancelled", "done", "cancelled"]
    assert gone[0]["closed_note"] == "the clinical record was withdrawn"
    assert gone[0]["closed_on"] == k.TODAY.isoformat()
    assert (await listed(client, board, status="open"))["total"] == 0


async def test_done_and_cancel(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any) -> None:
    board = sign_as(k.LAMDONG)
    cadre = await k.register(feed)
    record = uuid.uuid4()
    await feed(ClinicalRecordRecorded(record=summary(cadre.id, record, 1, [k.TODAY - timedelta(days=3), k.TODAY])))
    items = await by_position(client, board, record)
    first, second = items[0]["id"], items[1]["id"]

    tomorrow = (k.TODAY + timedelta(days=1)).isoformat()
    future = await client.post(f"{API}/{first}/done", json={"done_on": tomorrow}, headers=board)
    assert future.status_code == 422 and future.json()["errors"][0]["loc"] == ["done_on"]
    early = await client.post(f"{API}/{first}/done", json={"done_on": "2026-01-04"}, headers=board)
    assert early.status_code == 422 and early.json()["code"] == "before_record"
    assert (await client.get(f"{API}/{first}", headers=board)).json()["status"] == "overdue"  # nothing changed

    key = {"Idempotency-Key": f"done-{first}"}
    done = await client.post(f"{API}/{first}/done", json={"note": "đã tái khám"}, headers=board | key)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["closed_on"], body["closed_note"], body["days_overdue"]) == (
        "done",
        k.TODAY.isoformat(),
        "đã tái khám",
        0,
    )
    replay = await client.post(f"{API}/{first}/done", json={"note": "đã tái khám"}, headers=board | key)
    assert replay.status_code == 200 and replay.headers.get("idempotent-replayed") == "true" and replay.json() == body
    again = await client.post(f"{API}/{first}/done", json={}, headers=board)
    assert again.status_code == 422 and again.json()["errors"][0]["type"] == "not_open"

    no_reason = await client.post(f"{API}/{second}/cancel", json={}, headers=board)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["loc"][-1] == "reason"
    cancelled = await client.post(f"{API}/{second}/cancel", json={"reason": "đã chuyển tuyến trên"}, headers=board)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await listed(client, board, status="cancelled"))["total"] == 1
    assert (await client.post(f"{API}/{uuid.uuid4()}/cancel", json={"reason": "no such"}, headers=board)).status_code == 404


async def test_scope_withheld_notes_and_death(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any) -> None:
    board, dalat, admin = sign_as(k.LAMDONG), sign_as(k.DALAT), sign_as(k.ADMIN)
    provincial = await k.register(feed)
    district = await k.register(feed, tier=ManagementTier.DISTRICT, managing_unit="VN.68.672")
    leader = await k.register(feed, tier=ManagementTier.CENTRAL)
    due = [k.TODAY + timedelta(days=7)]
    await feed(ClinicalRecordRecorded(record=summary(provincial.id, uuid.uuid4(), 1, due)))
    await feed(ClinicalRecordRecorded(record=summary(district.id, uuid.uuid4(), 1, due)))
    # clinical withholds a central-tier cadre's note (contracts.events.clinical)
    withheld = summary(leader.id, uuid.uuid4(), 1, [])
    withheld.follow_ups = [FollowUpSummary(index=0, due_by=due[0], note_withheld=True)]
    withheld.needs_follow_up = True
    await feed(ClinicalRecordRecorded(record=withheld))

    assert (await listed(client, admin))["total"] == 3
    assert {i["cadre_id"] for i in (await listed(client, board))["items"]} == {str(provincial.id), str(district.id)}
    mine = (await listed(client, dalat))["items"]
    assert [i["cadre_id"] for i in mine] == [str(district.id)]
    central = next(i for i in (await listed(client, admin))["items"] if i["cadre_id"] == str(leader.id))
    assert (central["note"], central["note_withheld"]) == (None, True)

    # another board's follow-up is not there for Đà Lạt: 404 to read and to write, nothing changed
    other = next(i for i in (await listed(client, board))["items"] if i["cadre_id"] == str(provincial.id))
    assert (await client.get(f"{API}/{other['id']}", headers=dalat)).status_code == 404
    assert (await client.post(f"{API}/{other['id']}/done", json={}, headers=dalat)).status_code == 404
    assert (await client.post(f"{API}/{central['id']}/cancel", json={"reason": "x y"}, headers=board)).status_code == 404
    assert (await client.get(f"{API}/{other['id']}", headers=board)).json()["status"] == "open"

    # a death cancels the cadre's open follow-ups
    await feed(CadreDied(cadre=k.snapshot(id=provincial.id, status="deceased"), effective_date=k.TODAY))
    after = (await client.get(f"{API}/{other['id']}", headers=board)).json()
    assert (after["status"], after["closed_note"], after["closed_by"]) == ("cancelled", "deceased", "system:scheduling")
