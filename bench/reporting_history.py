"""The bulk-loaded national read models of `bench.reporting_data` as the event history that would have produced
them (units, plans, cadres registered and retired, invitations issued and their outcome, clinical records),
published to the broker as the outbox relay publishes events: what `reporting.rebuild` replays."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

from bench.reporting_data import DISTRICTS, PROVINCES, Loaded, province
from contracts.codesystems import HEALTH_CLASSIFICATION_1266, CodedValue
from contracts.enums import CadreStatus, EncounterKind, ManagementTier, ReferralKind, Sex, UnitLevel
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events.clinical import ClinicalRecordRecorded, RecordSummary
from contracts.events.registry import CadreRegistered, CadreRetired, CadreSnapshot, UnitCreated, UnitSnapshot
from contracts.events.scheduling import ExamPlanPublished, InvitationIssued, InvitationStatusChanged, RoundSnapshot
from contracts.topics import topic_of
from servicekit.broker import Broker

Event = tuple[DomainEvent, str, str | None, ManagementTier | None]  # (event, key, envelope unit, envelope tier)
FOUNDED = date(1976, 7, 2)
WINDOW = 2_000  # sends in flight before their acknowledgements are awaited (more: the embedded broker times out)


def _unit(path: str, name: str, level: UnitLevel) -> UnitCreated:
    parent = path.rpartition(".")[0] or None
    return UnitCreated(
        unit=UnitSnapshot(path=path, code=path.rpartition(".")[2], name=name, level=level, parent_path=parent, valid_from=FOUNDED)
    )


def units() -> Iterator[Event]:
    yield _unit("VN", "Việt Nam", UnitLevel.NATION), "VN", None, None
    for p in range(PROVINCES):
        yield _unit(province(p), f"Tỉnh {p}", UnitLevel.PROVINCE), province(p), None, None
        for d in range(DISTRICTS):
            path = f"{province(p)}.{d:03d}"
            yield _unit(path, f"Huyện {p}-{d}", UnitLevel.DISTRICT), path, None, None


def plans(loaded: Loaded) -> Iterator[Event]:
    for (board, year), (plan_id, round_id) in loaded.plans.items():
        rounds = [RoundSnapshot(id=round_id, number=1, starts_on=date(year, 3, 1), ends_on=date(year, 6, 30))]
        yield (
            ExamPlanPublished(plan_id=plan_id, board_unit=board, year=year, title=f"Kế hoạch {year}", rounds=rounds),
            str(plan_id),
            None,
            None,
        )


def cadres(loaded: Loaded) -> Iterator[Event]:
    """Each cadre registered in its first interval's state; a second interval is its retirement."""
    first: dict[uuid.UUID, Any] = {}
    for row in loaded.intervals:
        cid, unit, _prov, tier, status, start, _end = row
        tier_ = ManagementTier(tier)
        if cid not in first:
            first[cid] = row
            snapshot = CadreSnapshot(
                id=cid,
                full_name="Cán bộ",
                date_of_birth=date(1955, 1, 1),
                sex=Sex.MALE,
                national_id="000000000000",
                tier=tier_,
                status=CadreStatus(status),
                status_since=start,
                managing_unit=unit,
            )
            yield CadreRegistered(cadre=snapshot), str(cid), unit, tier_
        else:
            retired = CadreSnapshot.model_validate(
                {**_snapshot_of(first[cid]), "status": CadreStatus.RETIRED, "status_since": start}
            )
            yield CadreRetired(cadre=retired, effective_date=start), str(cid), unit, tier_


def _snapshot_of(row: Any) -> dict[str, Any]:
    cid, unit, _prov, tier, status, start, _end = row
    return {
        "id": cid,
        "full_name": "Cán bộ",
        "date_of_birth": date(1955, 1, 1),
        "sex": Sex.MALE,
        "national_id": "000000000000",
        "tier": ManagementTier(tier),
        "status": CadreStatus(status),
        "status_since": start,
        "managing_unit": unit,
    }


def invitations(loaded: Loaded) -> Iterator[Event]:
    for invitation_id, plan_id, round_id, cid, tier, unit, _prov, facility, day, status, status_on, _exam in loaded.invitations:
        tier_ = ManagementTier(tier)
        ids = {"invitation_id": invitation_id, "plan_id": plan_id, "round_id": round_id, "cadre_id": cid}
        issued = InvitationIssued(**ids, tier=tier_, managing_unit=unit, facility=facility, appointment_date=day)
        yield issued, str(invitation_id), unit, tier_
        changed = InvitationStatusChanged(**ids, previous_status="invited", status=status, effective_date=status_on)
        yield changed, str(invitation_id), unit, tier_


def records(loaded: Loaded) -> Iterator[Event]:
    for row in loaded.records:
        rid, version, kind, cid, facility, day, _month, ended, plan_id, round_id, at_home, code, referral, *_rest = row
        unit, _prov, tier = row[-3], row[-2], row[-1]
        classification = (
            CodedValue(system=HEALTH_CLASSIFICATION_1266.system, version=HEALTH_CLASSIFICATION_1266.version, code=code)
            if code
            else None
        )
        summary = RecordSummary(
            record_id=rid,
            version=version,
            kind=EncounterKind(kind),
            cadre_id=cid,
            facility=facility,
            external_id=rid.hex,
            occurred_on=day,
            ended_on=ended,
            plan_id=plan_id,
            round_id=round_id,
            at_home=at_home,
            classification=classification,
            referral_kind=ReferralKind(referral) if referral else None,
            diagnoses=loaded.codes.get(rid, []),
        )
        yield ClinicalRecordRecorded(record=summary), str(cid), unit, ManagementTier(tier)


def history(loaded: Loaded) -> Iterator[Event]:
    yield from units()
    yield from plans(loaded)
    yield from cadres(loaded)
    yield from invitations(loaded)
    yield from records(loaded)


async def publish(broker: Broker, loaded: Loaded) -> tuple[int, float]:
    """Every event of the history on its topic; (events, seconds)."""
    producer = await broker.producer()
    started = time.monotonic()
    pending: list[Any] = []
    count = 0
    for event, key, unit, tier in history(loaded):
        envelope = EventEnvelope.wrap(event, source="bench", subject=key, managing_unit=unit, tier=tier)
        pending.append(
            await producer.send(
                topic_of(type(event)).name, value=envelope.payload_bytes(), key=key.encode(), headers=envelope.to_kafka_headers()
            )
        )
        count += 1
        if len(pending) >= WINDOW:
            for ack in pending:
                await ack
            pending.clear()
    for ack in pending:
        await ack
    return count, time.monotonic() - started
