"""Clinical's events are written in runs of one type, each row its event's JSON (clinical.events): every one
of them must be exactly what the contract's models make of the same stored version, carry its cadre's scope
headers, and come out in the order the changes were made. On SQLite and PostgreSQL."""

import json
from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import httpx
from sqlalchemy import select

from clinical import domain
from clinical.tables import KIT
from contracts.codesystems import CodedValue
from contracts.envelope import DomainEvent
from contracts.events.clinical import EVENTS, FollowUpSummary, RecordSummary
from contracts.scope import Principal

Sign = Callable[[Principal], dict[str, str]]
EVENT_OF_TYPE: dict[str, type[DomainEvent]] = {event.event_type: event for event in EVENTS}


def records(nid: str) -> list[dict[str, Any]]:
    """One of every kind, with every optional part that shows in a summary."""
    return [
        {
            "kind": "periodic_exam",
            "external_id": "E-1",
            "national_id": nid,
            "occurred_on": "2026-03-01",
            "plan_id": "7d1c2f5e-0000-4000-8000-000000000001",
            "round_id": "7d1c2f5e-0000-4000-8000-000000000002",
            "at_home": True,
            "measurements": [{"code": "weight", "value": 62.5, "unit": "kg"}],
            "diagnoses": [{"code": "I10", "primary": True}, {"code": "E119"}, {"code": "E79.0"}],
            "classification": {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "B2"},
            "follow_ups": [{"finding": "nốt phổi 6 mm", "action": "CT sau 3 tháng"}],
        },
        {"kind": "periodic_exam", "external_id": "E-2", "national_id": nid, "occurred_on": "2026-03-02"},
        {"kind": "outpatient_visit", "external_id": "V-1", "national_id": nid, "occurred_on": "2026-01-03"},
        {"kind": "admission", "external_id": "A-1", "national_id": nid, "occurred_on": "2026-02-10", "ward": "Nội A"},
        {"kind": "transfer", "admission_external_id": "A-1", "on": "2026-02-12", "to_ward": "Hồi sức"},
        {
            "kind": "discharge",
            "admission_external_id": "A-1",
            "discharged_on": "2026-02-20",
            "outcome": "improved",
            "diagnoses": [{"code": "J44.1"}],
        },
        {
            "kind": "referral",
            "external_id": "R-1",
            "national_id": nid,
            "occurred_on": "2026-02-15",
            "referral_kind": "abroad",
            "to_facility": "Singapore General Hospital",
            "council_decision": "QĐ 12/HĐ",
            "status": "completed",
            "completed_on": "2026-02-25",
        },
        {"kind": "home_visit", "external_id": "H-1", "national_id": nid, "occurred_on": "2026-01-10"},
        {
            "kind": "consultation",
            "external_id": "C-1",
            "national_id": nid,
            "occurred_on": "2026-01-11",
            "participants": [{"name": "PGS. Hùng"}],
            "conclusion": "Theo dõi",
        },
    ]


async def outbox_rows(app: Any) -> list[tuple[dict[str, str], dict[str, Any]]]:
    table = KIT.outbox
    async with app.state.runtime.db.transaction() as session:
        rows = (await session.execute(select(table.c.headers, table.c.payload).order_by(table.c.id))).all()
    return [(dict(row.headers), json.loads(row.payload)) for row in rows]


def summary_by_pydantic(version: dict[str, Any], record: dict[str, Any], status: str) -> dict[str, Any]:
    """What the contract's own models make of one stored version, read back through the API."""
    summary = domain.summarise(record["kind"], version["data"])
    return RecordSummary(
        record_id=record["id"],
        version=version["version"],
        kind=summary.kind,
        cadre_id=record["cadre_id"],
        facility=record["facility"],
        external_id=record["external_id"],
        occurred_on=summary.occurred_on,
        ended_on=summary.ended_on,
        plan_id=summary.plan_id,
        round_id=summary.round_id,
        at_home=summary.at_home,
        classification=CodedValue(**summary.classification) if summary.classification else None,
        referral_kind=summary.referral_kind,
        diagnoses=summary.diagnoses,
        needs_follow_up=summary.needs_follow_up,
        status=status,
        discharge_outcome=summary.discharge_outcome,
        referral_status=summary.referral_status,
        chronic_groups=summary.chronic_groups,
        recorded_at=datetime.fromisoformat(version["recorded_at"]),
        follow_ups=[  # the cadre is district-tier: the HIS's note is published, the finding never
            FollowUpSummary(index=i, due_by=f.get("due_by"), note=f.get("action"))
            for i, f in enumerate(version["data"].get("follow_ups", []))
        ],
    ).model_dump(mode="json")


async def test_every_event_is_the_contract_shape_with_its_scope_headers_in_the_order_of_the_changes(
    app: Any, client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    nid = "068052000077"
    cadre_id = await seed_cadre(national_id=nid, managing_unit="VN.68.672")
    headers = sign_as(principals.his)
    bulk = await client.post("/his/records/bulk", json={"items": records(nid)}, headers=headers)
    assert bulk.json()["counts"] == {"created": 7, "amended": 2}, bulk.text
    corrected = {**records(nid)[1], "diagnoses": [{"code": "I10"}]}
    assert (await client.post("/his/records", json=corrected, headers=headers)).json()["outcome"] == "amended"
    withdrawn = await client.post(
        "/his/records/withdraw", json={"external_id": "H-1", "reason": "sai bệnh nhân"}, headers=headers
    )
    assert withdrawn.json()["outcome"] == "withdrawn"

    rows = await outbox_rows(app)
    assert [(h["ce_type"].rsplit(".", 1)[1], p["record"]["external_id"], p["record"]["version"]) for h, p in rows] == [
        ("recorded", "E-1", 1), ("recorded", "E-2", 1), ("recorded", "V-1", 1), ("recorded", "A-1", 1),
        ("recorded", "R-1", 1), ("recorded", "H-1", 1), ("recorded", "C-1", 1),
        ("amended", "A-1", 2), ("amended", "A-1", 3), ("amended", "E-2", 2), ("withdrawn", "H-1", 2),
    ]  # fmt: skip
    for row_headers, payload in rows:
        event = EVENT_OF_TYPE[row_headers["ce_type"]]
        assert event.model_validate(payload).model_dump(mode="json") == payload  # nothing missing, extra or reformatted
        assert row_headers["ce_subject"] == str(cadre_id)
        assert (row_headers["ce_managingunit"], row_headers["ce_tier"]) == ("VN.68.672", "district")
        assert payload["record"]["cadre_id"] == str(cadre_id) and payload["record"]["facility"] == "68-BVDK"
        external_id = payload["record"]["external_id"]
        record = (await client.get("/his/records/lookup", params={"external_id": external_id}, headers=headers)).json()
        versions = (await client.get("/his/records/versions", params={"external_id": external_id}, headers=headers)).json()
        version = versions[payload["record"]["version"] - 1]
        status = "withdrawn" if version["change"] == "withdrawn" else "current"
        assert payload["record"] == summary_by_pydantic(version, record, status)
    amended = [p for h, p in rows if h["ce_type"].endswith("amended")]
    assert [(p["previous_version"], p["change"]) for p in amended] == [(1, "transfer"), (2, "discharge"), (1, "correction")]
    assert rows[-1][1]["reason"] == "sai bệnh nhân"
    exam = rows[0][1]["record"]
    assert exam["chronic_groups"] == ["hypertension", "diabetes", "gout"] and exam["needs_follow_up"] and exam["at_home"]
