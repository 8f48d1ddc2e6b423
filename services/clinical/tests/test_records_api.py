"""One record, its versions and its withdrawal (clinical.records): readers in scope, a HIS only what its
facility wrote. On SQLite and PostgreSQL."""

import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any

import httpx
from clinical_testkit import Count, Events, Sign, exam, post, snapshot
from fastapi import FastAPI

from clinical.projections import consumers
from clinical.tables import ClinicalRecord, ClinicalRecordVersion
from contracts.enums import ManagementTier
from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreTransferred
from contracts.topics import CADRES
from servicekit.testing.events import record_of


async def test_withdrawn_records_are_kept_marked_and_refuse_new_versions(
    client: httpx.AsyncClient,
    sign_as: Sign,
    seed_cadre: Any,
    principals: SimpleNamespace,
    outbox_events: Events,
    count_rows: Count,
) -> None:
    nid = "068052000030"
    cadre_id = await seed_cadre(national_id=nid)
    created = (await post(client, sign_as, principals.his, exam(nid))).json()["record"]
    headers = sign_as(principals.his)
    withdrawn = await client.post(
        "/his/records/withdraw", json={"external_id": "KSK-2026-0001", "reason": "wrong patient"}, headers=headers
    )
    assert withdrawn.json()["outcome"] == "withdrawn" and withdrawn.json()["record"]["status"] == "withdrawn"
    repeat = await client.post(
        "/his/records/withdraw", json={"external_id": "KSK-2026-0001", "reason": "wrong patient"}, headers=headers
    )
    assert repeat.json()["outcome"] == "existed"
    unknown = await client.post("/his/records/withdraw", json={"external_id": "NOPE", "reason": "x" * 5}, headers=headers)
    assert unknown.status_code == 404
    assert (await post(client, sign_as, principals.his, exam(nid))).json()["errors"][0]["type"] == "record_withdrawn"
    doctor = sign_as(principals.doctor)
    assert (await client.get(f"/cadres/{cadre_id}/timeline", headers=doctor)).json()["total"] == 0
    shown = (await client.get(f"/cadres/{cadre_id}/timeline", params={"include_withdrawn": True}, headers=doctor)).json()
    assert shown["items"][0]["withdrawn_reason"] == "wrong patient"
    assert await count_rows(ClinicalRecordVersion) == 2
    events = await outbox_events()
    assert events[-1][0] == "vn.cadrecare.clinical.record.withdrawn" and events[-1][1]["reason"] == "wrong patient"
    assert events[-1][1]["record"]["record_id"] == created["id"] and events[-1][1]["record"]["status"] == "withdrawn"


async def test_readers_see_only_their_scope_and_a_his_only_what_its_facility_wrote(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    dalat_cadre = await seed_cadre(national_id="068052000050")
    baoloc_cadre = await seed_cadre(national_id="068052000051", managing_unit="VN.68.673")
    await post(client, sign_as, principals.his, exam("068052000050", external_id="A"))
    baoloc = (await post(client, sign_as, principals.his, exam("068052000051", external_id="B"))).json()["record"]
    dalat = sign_as(principals.dalat)
    assert (await client.get(f"/cadres/{dalat_cadre}/timeline", headers=dalat)).json()["total"] == 1
    assert (await client.get(f"/cadres/{baoloc_cadre}/timeline", headers=dalat)).status_code == 404
    assert (await client.get(f"/records/{baoloc['id']}", headers=dalat)).status_code == 404
    assert (await client.get(f"/cadres/{baoloc_cadre}/conditions", headers=dalat)).status_code == 404
    own = await client.get("/his/records/lookup", params={"external_id": "B"}, headers=sign_as(principals.his))
    assert own.status_code == 200 and own.json()["id"] == baoloc["id"]
    assert own.headers["x-audit-subjects"] == str(baoloc_cadre)
    versions = await client.get("/his/records/versions", params={"external_id": "B"}, headers=sign_as(principals.his))
    assert [v["version"] for v in versions.json()] == [1]
    other_facility = await client.get("/his/records/lookup", params={"external_id": "B"}, headers=sign_as(principals.his_saigon))
    assert other_facility.status_code == 404
    assert (await client.get(f"/records/{baoloc['id']}", headers=sign_as(principals.his))).status_code == 403
    assert (await post(client, sign_as, principals.doctor, exam("068052000050", external_id="C"))).status_code == 403


async def test_records_follow_the_cadre_when_the_registry_moves_them(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, cadre_event: Any, principals: SimpleNamespace
) -> None:
    nid = "068052000070"
    cadre_id = await seed_cadre(national_id=nid)
    record = (await post(client, sign_as, principals.his, exam(nid))).json()["record"]
    dalat = sign_as(principals.dalat)
    assert (await client.get(f"/records/{record['id']}", headers=dalat)).status_code == 200
    moved = {
        "id": cadre_id,
        "full_name": "Nguyễn Văn Đức",
        "date_of_birth": "1952-04-05",
        "sex": "male",
        "national_id": nid,
        "tier": ManagementTier.DISTRICT.value,
        "status": "retired",
        "status_since": "2012-05-01",
        "managing_unit": "VN.68.673",
    }
    transferred = CadreTransferred.model_validate(
        {"cadre": moved, "previous_managing_unit": "VN.68.672", "effective_date": "2026-01-01", "reason": "moved"}
    )
    await cadre_event(transferred, str(cadre_id))
    assert (await client.get(f"/records/{record['id']}", headers=dalat)).status_code == 404
    assert (await client.get(f"/records/{record['id']}", headers=sign_as(principals.doctor))).json()[
        "managing_unit"
    ] == "VN.68.673"


async def test_records_follow_the_last_move_of_a_batch_of_registry_events(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, app: FastAPI
) -> None:
    """Two moves of one cadre fetched in one batch are projected as one run: the records end where the last one
    leaves the cadre, as applying them one by one would."""
    nid = "068052000071"
    cadre_id = await seed_cadre(national_id=nid)
    record = (await post(client, sign_as, principals.his, exam(nid))).json()["record"]
    first = snapshot(cadre_id, national_id=nid, managing_unit="VN.68.673")
    second = snapshot(cadre_id, national_id=nid, managing_unit="VN.68.674", tier=ManagementTier.PROVINCIAL_3)
    events = [
        CadreTransferred(cadre=first, previous_managing_unit="VN.68.672", effective_date=date(2026, 1, 1), reason="a"),
        CadreTransferred(cadre=second, previous_managing_unit="VN.68.673", effective_date=date(2026, 2, 1), reason="b"),
    ]
    envelopes = [EventEnvelope.wrap(e, source="cadrecare/registry", subject=str(cadre_id)) for e in events]
    batch = [record_of(envelope, CADRES.name, 5000 + n, envelope.subject) for n, envelope in enumerate(envelopes)]
    consumer = next(c for c in consumers(app.state.runtime) if CADRES.name in c.topics)
    assert await consumer.apply_batch(batch) is None
    shown = (await client.get(f"/records/{record['id']}", headers=sign_as(principals.doctor))).json()
    assert shown["managing_unit"] == "VN.68.674"
    async with app.state.runtime.db.read() as session:
        kept = await session.get(ClinicalRecord, uuid.UUID(record["id"]))
    assert kept is not None and (kept.managing_unit, kept.tier) == ("VN.68.674", "provincial_3")
