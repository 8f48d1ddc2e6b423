"""Events in: exam results set attendance; deaths, removals, newcomers and transfers change invitations.
The handlers run as the consumers run them; the last test goes through a real broker."""

import asyncio
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from contracts.api.scheduling import InvitationStatus
from contracts.codesystems import CodedValue
from contracts.enums import CadreStatus, EncounterKind, ManagementTier
from contracts.envelope import EventEnvelope
from contracts.events.clinical import ClinicalRecordAmended, ClinicalRecordRecorded, ClinicalRecordWithdrawn, RecordSummary
from contracts.events.registry import CadreDied, CadreRegistered, CadreRemoved, CadreTransferred
from contracts.topics import CADRES, CLINICAL_RECORDS
from scheduling.app import create_app
from scheduling.settings import SchedulingSettings
from servicekit import migrations
from servicekit.embedded import TansuBroker


def exam(cadre_id: str, occurred_on: str, *, kind: EncounterKind = EncounterKind.PERIODIC_EXAM, **ids: Any) -> RecordSummary:
    return RecordSummary(
        record_id=ids.pop("record_id", uuid.uuid4()),
        version=1,
        kind=kind,
        cadre_id=uuid.UUID(cadre_id),
        facility="68-BVDK",
        external_id=f"HIS-{uuid.uuid4().hex[:8]}",
        occurred_on=date.fromisoformat(occurred_on),
        classification=CodedValue(system="urn:vn:moh:qd-1266", version="2020", code="B1")
        if kind == EncounterKind.PERIODIC_EXAM
        else None,
        **ids,
    )


async def status_of(client: httpx.AsyncClient, sign_as: Any, k: Any, invitation_id: str) -> dict[str, Any]:
    answer = await client.get(f"/invitations/{invitation_id}", headers=sign_as(k.LAMDONG))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_exam_results_set_attendance(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, app: FastAPI) -> None:
    group1 = await k.register(feed, tier=ManagementTier.PROVINCIAL_1)  # twice a year: rounds 1 and 2
    group2 = [await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name=f"Cán bộ {i}") for i in range(2)]
    plan, invitations = await k.generated(client, sign_as)
    round2 = next(i for i in invitations if i["cadre_id"] == str(group1.id) and i["round_number"] == 2)

    # the HIS names the round: that invitation is attended, on the exam's date
    record_id = uuid.uuid4()
    await feed(
        ClinicalRecordRecorded(
            record=exam(str(group1.id), k.day(9, 8), record_id=record_id, round_id=uuid.UUID(round2["round_id"]))
        )
    )
    after = await status_of(client, sign_as, k, round2["id"])
    assert (after["status"], after["status_since"]) == ("attended", k.day(9, 8))
    first = next(i for i in invitations if i["cadre_id"] == str(group1.id) and i["round_number"] == 1)
    assert (await status_of(client, sign_as, k, first["id"]))["status"] == "invited"
    # an amendment of the same record changes nothing; an outpatient visit is no periodic exam
    await feed(
        ClinicalRecordAmended(
            record=exam(str(group1.id), k.day(9, 8), record_id=record_id, round_id=uuid.UUID(round2["round_id"])),
            previous_version=1,
        )
    )
    await feed(ClinicalRecordRecorded(record=exam(str(group2[0].id), k.day(3, 3), kind=EncounterKind.OUTPATIENT_VISIT)))
    changed = await k.outbox_events(app, "vn.cadrecare.scheduling.invitation.status_changed")
    assert len(changed) == 1

    # no round named: the plan and the exam's date find the invitation; a no-show turns attended too
    target = next(i for i in invitations if i["cadre_id"] == str(group2[0].id))
    await client.post(f"/invitations/{target['id']}/status", json={"status": "no_show"}, headers=sign_as(k.LAMDONG))
    late_record = uuid.uuid4()
    await feed(
        ClinicalRecordRecorded(record=exam(str(group2[0].id), k.day(3, 12), record_id=late_record, plan_id=uuid.UUID(plan["id"])))
    )
    assert (await status_of(client, sign_as, k, target["id"]))["status"] == "attended"
    # neither round nor plan: the round's dates decide; outside every round nothing happens
    other = next(i for i in invitations if i["cadre_id"] == str(group2[1].id))
    await feed(ClinicalRecordRecorded(record=exam(str(group2[1].id), k.day(6, 1))))
    assert (await status_of(client, sign_as, k, other["id"]))["status"] == "invited"
    await feed(ClinicalRecordRecorded(record=exam(str(group2[1].id), k.day(3, 5))))
    assert (await status_of(client, sign_as, k, other["id"]))["status"] == "attended"

    # a withdrawn result no longer counts: the invitation goes back to what it was
    await feed(
        ClinicalRecordWithdrawn(record=exam(str(group2[0].id), k.day(3, 12), record_id=late_record), reason="wrong patient")
    )
    assert (await status_of(client, sign_as, k, target["id"]))["status"] == "no_show"
    coverage = (await client.get("/coverage", params={"plan_id": plan["id"]}, headers=sign_as(k.LAMDONG))).json()
    assert coverage["total"]["attended"] == 2 and coverage["total"]["no_show"] == 1


async def test_deaths_removals_and_newcomers(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, app: FastAPI) -> None:
    dying = await k.register(feed, tier=ManagementTier.PROVINCIAL_1, full_name="Hồ Văn Mất")
    leaving = await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name="Đỗ Văn Rời")
    staying = await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name="Ngô Văn Ở")
    _plan, invitations = await k.generated(client, sign_as)
    first_of_dying = next(i for i in invitations if i["cadre_id"] == str(dying.id) and i["round_number"] == 1)
    await client.post(f"/invitations/{first_of_dying['id']}/status", json={"status": "attended"}, headers=sign_as(k.LAMDONG))

    await feed(CadreDied(cadre=dying.model_copy(update={"status": CadreStatus.DECEASED}), effective_date=k.TODAY))
    await feed(
        CadreRemoved(cadre=leaving.model_copy(update={"status": CadreStatus.REMOVED}), effective_date=k.TODAY, reason="thôi diện")
    )
    mine = {i["id"]: i for i in await k.invitations_of(client, sign_as)}
    assert mine[first_of_dying["id"]]["status"] == "attended"  # what happened stays
    second_of_dying = next(i for i in invitations if i["cadre_id"] == str(dying.id) and i["round_number"] == 2)
    assert (mine[second_of_dying["id"]]["status"], mine[second_of_dying["id"]]["reason"]) == ("cancelled", "deceased")
    of_leaving = next(i for i in mine.values() if i["cadre_id"] == str(leaving.id))
    assert (of_leaving["status"], of_leaving["reason"]) == ("cancelled", "removed: thôi diện")
    assert next(i for i in mine.values() if i["cadre_id"] == str(staying.id))["status"] == "invited"

    # a cadre registered after the plan was generated is invited to its next rounds (group 1: both rounds)
    newcomer = await k.register(feed, tier=ManagementTier.PROVINCIAL_1, full_name="Mai Văn Mới")
    theirs = await k.invitations_of(client, sign_as, cadre_id=str(newcomer.id))
    assert sorted(i["round_number"] for i in theirs) == [1, 2]
    # the registry's events are redelivered: nothing doubles
    await feed(CadreRegistered(cadre=newcomer))
    assert len(await k.invitations_of(client, sign_as, cadre_id=str(newcomer.id))) == 2
    # not eligible under the plan's rules: a district-tier cadre of the province's area
    await k.register(feed, tier=ManagementTier.DISTRICT, managing_unit="VN.68.672")
    assert len(await k.invitations_of(client, sign_as)) == len(mine) + 2


async def test_transfers_flag_or_move_open_invitations(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any) -> None:
    flagged = await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name="Cán bộ Chuyển A")
    moved = await k.register(feed, tier=ManagementTier.PROVINCIAL_3, full_name="Cán bộ Chuyển B")
    inside = await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name="Cán bộ Chuyển C")
    _plan, _invitations = await k.generated(client, sign_as, on_transfer="flag")
    # the neighbouring province's board (Khánh Hòa) has its own plan; its policy is to move
    rules = await client.post("/cadence-rules", json=k.rules_body(board_unit="VN.56"), headers=sign_as(k.ADMIN))
    other = k.plan_body(rules.json()["id"], board_unit="VN.56", title="Kế hoạch Khánh Hòa", on_transfer="move")
    other["facilities"] = [{"code": "56-BVDK", "name": "Bệnh viện Đa khoa tỉnh Khánh Hòa", "daily_capacity": 10}]
    for round_ in other["rounds"]:
        round_["groups"] = [{"tier": g["tier"], "facility": "56-BVDK"} for g in round_["groups"] if "unit" not in g]
    khanh_hoa = await client.post("/plans", json=other, headers=sign_as(k.ADMIN))
    assert khanh_hoa.status_code == 201, khanh_hoa.text
    await client.post(f"/plans/{khanh_hoa.json()['id']}/generate", headers=sign_as(k.ADMIN))

    def transferred(cadre: Any, unit: str) -> CadreTransferred:
        return CadreTransferred(
            cadre=cadre.model_copy(update={"managing_unit": unit}),
            previous_managing_unit=cadre.managing_unit,
            effective_date=k.TODAY,
            reason="chuyển công tác",
        )

    await feed(transferred(flagged, "VN.56"))
    await feed(transferred(inside, "VN.68.673"))
    flags = await k.invitations_of(client, sign_as, flagged="true")
    assert [(i["cadre_id"], i["status"]) for i in flags] == [(str(flagged.id), "invited")]
    assert flags[0]["flag"].startswith("transferred to VN.56")
    cleared = await client.post(f"/invitations/{flags[0]['id']}/clear-flag", headers=sign_as(k.LAMDONG))
    assert cleared.status_code == 200 and cleared.json()["flag"] is None
    # a move inside the board: the invitation follows the managing unit, no flag
    of_inside = next(i for i in await k.invitations_of(client, sign_as) if i["cadre_id"] == str(inside.id))
    assert (of_inside["managing_unit"], of_inside["flag"]) == ("VN.68.673", None)

    # Khánh Hòa -> Lâm Đồng: Khánh Hòa's policy moves the invitation into Lâm Đồng's plan
    incoming = await k.register(feed, tier=ManagementTier.PROVINCIAL_2, managing_unit="VN.56", full_name="Cán bộ Đến")
    before = await k.invitations_of(client, sign_as, k.ADMIN, cadre_id=str(incoming.id))
    assert [i["managing_unit"] for i in before] == ["VN.56"]
    await feed(transferred(incoming, "VN.68"))
    after = {i["plan_id"]: i for i in await k.invitations_of(client, sign_as, k.ADMIN, cadre_id=str(incoming.id))}
    assert after[khanh_hoa.json()["id"]]["status"] == "cancelled"
    assert after[khanh_hoa.json()["id"]]["reason"] == "transferred to VN.68"
    new_plan_invitation = next(i for p, i in after.items() if p != khanh_hoa.json()["id"])
    assert (new_plan_invitation["status"], new_plan_invitation["managing_unit"]) == ("invited", "VN.68")
    assert moved.id  # the group-3 cadre stays where it was
    assert all(i["flag"] is None for i in await k.invitations_of(client, sign_as, cadre_id=str(moved.id)))


async def test_consumers_apply_registry_and_clinical_events_from_a_real_broker(
    k: Any, kafka_broker: TansuBroker, internal_keys: tuple[bytes, Path], tmp_path: Path, sign_as: Any
) -> None:
    """The real path: the registry's and clinical's events on Kafka, scheduling's consumers with their own positions."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'scheduling.db'}"
    migrations.upgrade("scheduling", url)
    settings = SchedulingSettings(
        database_url=url, data_dir=tmp_path, internal_public_key_file=internal_keys[1], kafka_bootstrap=kafka_broker.bootstrap
    )
    app = create_app(settings)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    await producer.start()

    async def publish(topic: str, event: Any, key: str) -> None:
        envelope = EventEnvelope.wrap(event, source="cadrecare/test", subject=key)
        await producer.send_and_wait(topic, envelope.payload_bytes(), key=key.encode(), headers=envelope.to_kafka_headers())

    try:
        async with app.router.lifespan_context(app):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scheduling")
            cadre = k.snapshot(tier=ManagementTier.PROVINCIAL_2)
            await publish(CADRES.name, CadreRegistered(cadre=cadre), str(cadre.id))

            async def summary() -> int:
                answer = await client.get("/roster/summary", headers=sign_as(k.LAMDONG))
                count: int = answer.json()["cadres"]
                return count

            for _ in range(100):
                if await summary() == 1:
                    break
                await asyncio.sleep(0.1)
            assert await summary() == 1
            plan = await k.make_plan(client, sign_as)
            await client.post(f"/plans/{plan['id']}/generate", headers=sign_as(k.LAMDONG))
            invitation = (await k.invitations_of(client, sign_as, plan_id=plan["id"]))[0]
            await publish(
                CLINICAL_RECORDS.name,
                ClinicalRecordRecorded(record=exam(str(cadre.id), k.day(3, 4), round_id=uuid.UUID(invitation["round_id"]))),
                str(cadre.id),
            )
            status = ""
            for _ in range(100):
                status = (await status_of(client, sign_as, k, invitation["id"]))["status"]
                if status == InvitationStatus.ATTENDED:
                    break
                await asyncio.sleep(0.1)
            assert status == "attended"
            await client.aclose()
    finally:
        await producer.stop()
