"""One example message of every event type and schema version: the fixtures every consumer must parse.

Each example is the Kafka message a producer publishes (CloudEvents binary mode: `ce_*` headers and the
JSON payload), built from the contracts' models with every optional field filled, so a consumer meets
the whole shape. The examples refer to one another (one cadre, its plan, round, invitation, record), so
a consumer can apply them in order as one story.

The committed copies under `examples/` are what producers have been sending: `make contracts`
(`python -m contracts.examples`) writes them, and refuses to overwrite one that the current models no
longer parse (a consumer reading the old shape would break: that needs a new schema version).
tests/contract/test_event_fixtures.py hands every committed example of a topic to every consumer of it.
"""

import json
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from contracts.codesystems import HEALTH_CLASSIFICATION_1266, CodedValue
from contracts.enums import (
    CadreStatus,
    EligibilityCategory,
    EncounterKind,
    ManagementTier,
    ReferralKind,
    Sex,
    UnitLevel,
)
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events import ALL_EVENTS, clinical, parse_payload, registry, reporting, scheduling
from contracts.topics import topic_of

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
CADRE_ID = uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-000000000001")
PLAN_ID = uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-000000000002")
ROUND_ID = uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-000000000003")
INVITATION_ID = uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-000000000004")
RECORD_ID = uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-000000000005")
TRIP_ID = uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-000000000006")
REGISTRATION_ID = uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-000000000007")
REPORT_ID = uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-000000000008")
APPROVAL_ID = uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-00000000000a")
REORGANISATION_ID = uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-000000000009")
BOARD, DISTRICT, TIER = "VN.68", "VN.68.672", ManagementTier.DISTRICT
SENT_AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def cadre(**changes: Any) -> registry.CadreSnapshot:
    values: dict[str, Any] = {
        "id": CADRE_ID,
        "full_name": "Nguyễn Văn Đức",
        "date_of_birth": date(1958, 4, 5),
        "sex": Sex.MALE,
        "national_id": "068058000001",
        "tier": TIER,
        "status": CadreStatus.RETIRED,
        "status_since": date(2018, 5, 1),
        "managing_unit": DISTRICT,
        "eligibility": [EligibilityCategory.NATIONAL_ASSEMBLY_DEPUTY],
        "position": "Nguyên Bí thư Thành ủy",
        "work_unit": "Thành ủy Đà Lạt",
        "residence_address": "12 Trần Phú, Phường 3, Đà Lạt",
        "residence_unit": DISTRICT,
        "phone": "0263 3822 001",
        "card_number": "68-26-00000001",
    }
    return registry.CadreSnapshot(**(values | changes))


def unit(path: str = DISTRICT, name: str = "Thành phố Đà Lạt", **changes: Any) -> registry.UnitSnapshot:
    values: dict[str, Any] = {
        "path": path,
        "code": path.rpartition(".")[2],
        "name": name,
        "level": UnitLevel.DISTRICT,
        "parent_path": path.rpartition(".")[0] or None,
        "valid_from": date(2004, 1, 1),
        "valid_to": None,
    }
    return registry.UnitSnapshot(**(values | changes))


def summary(**changes: Any) -> clinical.RecordSummary:
    values: dict[str, Any] = {
        "record_id": RECORD_ID,
        "version": 1,
        "kind": EncounterKind.PERIODIC_EXAM,
        "cadre_id": CADRE_ID,
        "facility": "68-BVDK",
        "external_id": "KSK-2026-0001",
        "occurred_on": date(2026, 3, 2),
        "ended_on": None,
        "plan_id": PLAN_ID,
        "round_id": ROUND_ID,
        "at_home": False,
        "classification": CodedValue(
            system=HEALTH_CLASSIFICATION_1266.system, version=HEALTH_CLASSIFICATION_1266.version, code="B1"
        ),
        "referral_kind": ReferralKind.HIGHER_LEVEL,
        "diagnoses": ["I10", "E11.9"],
        "needs_follow_up": True,
        "status": "current",
        "discharge_outcome": None,
        "referral_status": None,
        "chronic_groups": ["hypertension", "diabetes"],
        "recorded_at": SENT_AT,
        "follow_ups": [clinical.FollowUpSummary(index=0, due_by=date(2026, 6, 1), note="Tái khám (giấy hẹn 12/2026)")],
    }
    return clinical.RecordSummary(**(values | changes))


def _registry_examples() -> list[DomainEvent]:
    moved = cadre(managing_unit="VN.68.673", residence_unit="VN.68.673")
    return [
        registry.CadreRegistered(cadre=cadre()),
        registry.CadreUpdated(cadre=cadre(phone="0263 3822 002"), changed_fields=["phone"]),
        registry.CadreRetired(cadre=cadre(), effective_date=date(2018, 5, 1)),
        registry.CadreTierChanged(cadre=cadre(), previous_tier=ManagementTier.PROVINCIAL_3, effective_date=date(2026, 1, 1)),
        registry.CadreDied(
            cadre=cadre(status=CadreStatus.DECEASED, status_since=date(2026, 2, 1)), effective_date=date(2026, 2, 1)
        ),
        registry.CadreRemoved(
            cadre=cadre(status=CadreStatus.REMOVED, status_since=date(2026, 2, 1)),
            effective_date=date(2026, 2, 1),
            reason="registered twice",
        ),
        registry.CadreTransferred(
            cadre=moved,
            previous_managing_unit=DISTRICT,
            effective_date=date(2026, 2, 1),
            reason="moved to Bảo Lộc",
            reorganisation_id=REORGANISATION_ID,
        ),
        registry.CardIssued(cadre=cadre(), card_number="68-26-00000001", replaces_card_number="68-25-00000001"),
        registry.UnitCreated(unit=unit()),
        registry.UnitRenamed(unit=unit(name="Thành phố Đà Lạt mới"), previous_name="Thành phố Đà Lạt"),
        registry.UnitsReorganized(
            kind="merge",
            effective_date=date(2025, 7, 1),
            retired_units=[unit("VN.67", "Tỉnh Đắk Nông", level=UnitLevel.PROVINCE, valid_to=date(2025, 7, 1))],
            created_units=[unit(BOARD, "Tỉnh Lâm Đồng", level=UnitLevel.PROVINCE, valid_from=date(2025, 7, 1))],
            mapping={"VN.67": [BOARD]},
            moved_cadres=1,
            reorganisation_id=REORGANISATION_ID,
            reason="Nghị quyết 202/2025/QH15",
        ),
    ]


def _scheduling_examples() -> list[DomainEvent]:
    rounds = [scheduling.RoundSnapshot(id=ROUND_ID, number=1, starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 13))]
    invitation = {"invitation_id": INVITATION_ID, "plan_id": PLAN_ID, "round_id": ROUND_ID, "cadre_id": CADRE_ID}
    return [
        scheduling.ExamPlanPublished(
            plan_id=PLAN_ID,
            board_unit=BOARD,
            year=2026,
            title="Kế hoạch khám sức khỏe định kỳ năm 2026",
            rounds=rounds,
            plan_date=date(2026, 1, 15),
            rule_set_version=1,
        ),
        scheduling.InvitationIssued(
            **invitation,
            tier=TIER,
            managing_unit=DISTRICT,
            facility="68-BVDK",
            appointment_date=date(2026, 3, 2),
            attempt=1,
            at_home=False,
            previous_invitation_id=uuid.UUID("0b7e4a52-5c1d-4f0e-9a51-000000000010"),
        ),
        scheduling.InvitationStatusChanged(
            **invitation, previous_status="invited", status="confirmed", reason="by phone", effective_date=date(2026, 2, 20)
        ),
        scheduling.ConvalescenceTripPublished(
            trip_id=TRIP_ID,
            board_unit=BOARD,
            title="Nghỉ dưỡng Vũng Tàu đợt 1",
            destination="Khu nghỉ dưỡng Vũng Tàu",
            starts_on=date(2026, 6, 1),
            ends_on=date(2026, 6, 10),
            quota=16,
            rule_version=1,
            eligible=14,
        ),
        scheduling.ConvalescenceRegistered(
            registration_id=REGISTRATION_ID,
            trip_id=TRIP_ID,
            board_unit=BOARD,
            cadre_id=CADRE_ID,
            tier=TIER,
            managing_unit=DISTRICT,
            starts_on=date(2026, 6, 1),
            registered_on=date(2026, 3, 1),
        ),
        scheduling.ConvalescenceRegistrationCancelled(
            registration_id=REGISTRATION_ID,
            trip_id=TRIP_ID,
            cadre_id=CADRE_ID,
            reason="in hospital",
            cancelled_on=date(2026, 4, 1),
        ),
    ]


def _clinical_examples() -> list[DomainEvent]:
    return [
        clinical.ClinicalRecordRecorded(record=summary()),
        clinical.ClinicalRecordAmended(
            record=summary(version=2, discharge_outcome="improved", referral_status="accepted"),
            previous_version=1,
            change="correction",
        ),
        clinical.ClinicalRecordWithdrawn(
            record=summary(version=3, status="withdrawn"), reason="posted for the wrong patient", reason_withheld=False
        ),
    ]


def _reporting_examples() -> list[DomainEvent]:
    return [
        reporting.ReportIssued(
            report_id=REPORT_ID, board_unit=BOARD, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), kind="six_monthly"
        ),
        *_approval_examples(),
    ]


def _approval_examples() -> list[DomainEvent]:
    """The chain of a board's six-monthly report: submitted, returned with a comment, approved, accepted."""
    chain = {"approval_id": APPROVAL_ID, "board_unit": BOARD, "period_start": date(2026, 1, 1), "period_end": date(2026, 6, 30)}
    return [
        reporting.ReportSubmitted(**chain, kind="six_monthly", actor="user:lamdong", report_id=REPORT_ID),
        reporting.ReportReturned(**chain, kind="six_monthly", actor="user:central", comment="Bổ sung kinh phí 6 tháng"),
        reporting.ReportApproved(**chain, kind="six_monthly", actor="user:central", report_id=REPORT_ID),
        reporting.ReportAccepted(**chain, kind="six_monthly", actor="user:central", report_id=REPORT_ID),
    ]


BUILDERS: tuple[Callable[[], list[DomainEvent]], ...] = (
    _registry_examples,
    _scheduling_examples,
    _clinical_examples,
    _reporting_examples,
)


def name_of(event: type[DomainEvent]) -> str:
    return f"{event.event_type}.v{event.schema_version}"


def _subject_of(event: DomainEvent) -> str:
    """The message key the producer uses: the aggregate's id (contracts.topics)."""
    for attribute in ("report_id", "trip_id", "invitation_id", "plan_id"):
        if hasattr(event, attribute):
            return str(getattr(event, attribute))
    if isinstance(event, registry.UnitCreated | registry.UnitRenamed):
        return event.unit.path
    if isinstance(event, registry.UnitsReorganized):
        return BOARD
    return str(CADRE_ID)


def envelope_of(event: DomainEvent) -> EventEnvelope:
    """The example's envelope, with every attribute set and fixed (its id is derived from its type)."""
    envelope = EventEnvelope.wrap(
        event,
        source=f"cadrecare/{topic_of(type(event)).producer}",
        subject=_subject_of(event),
        correlation_id="example-correlation-id",
        managing_unit=DISTRICT,
        tier=TIER,
    )
    return envelope.model_copy(update={"id": uuid.uuid5(uuid.NAMESPACE_URL, name_of(type(event))), "time": SENT_AT})


def message_of(envelope: EventEnvelope) -> dict[str, Any]:
    """The Kafka message (binary mode) as JSON: its headers and its payload."""
    return {"headers": {name: value.decode() for name, value in envelope.to_kafka_headers()}, "payload": envelope.data}


def current_examples() -> dict[str, dict[str, Any]]:
    """Example name (`<type>.v<version>`) -> its message, from the models as they are now."""
    built = {name_of(type(event)): message_of(envelope_of(event)) for build in BUILDERS for event in build()}
    missing = sorted(name_of(event) for event in ALL_EVENTS if name_of(event) not in built)
    if missing:
        raise LookupError(f"no example of {', '.join(missing)}: add one to contracts.examples")
    return built


def committed_examples(directory: Path = EXAMPLES_DIR) -> dict[str, dict[str, Any]]:
    return {path.name.removesuffix(".json"): json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


def headers_of(message: dict[str, Any]) -> list[tuple[str, bytes]]:
    return [(name, str(value).encode()) for name, value in message["headers"].items()]


def payload_of(message: dict[str, Any]) -> bytes:
    return json.dumps(message["payload"], ensure_ascii=False, separators=(",", ":")).encode()


def parse_message(message: dict[str, Any]) -> tuple[EventEnvelope, DomainEvent]:
    """What every consumer does with a message: the envelope from its headers, the typed payload from its value."""
    envelope = EventEnvelope.from_kafka(headers_of(message), payload_of(message))
    return envelope, parse_payload(envelope)


def write(directory: Path = EXAMPLES_DIR) -> list[str]:
    """Write the current examples; refuses (returns the problems) where a committed one no longer parses."""
    problems = []
    for name, message in committed_examples(directory).items():
        try:
            parse_message(message)
        except ValueError as exc:
            problems.append(f"{name}: the committed example no longer parses ({exc}); publish a new schema version")
    if problems:
        return problems
    directory.mkdir(parents=True, exist_ok=True)
    for name, message in current_examples().items():
        (directory / f"{name}.json").write_text(json.dumps(message, ensure_ascii=False, indent=2) + "\n")
    return []


if __name__ == "__main__":
    refused = write()
    for problem in refused:
        print(problem, file=sys.stderr)
    sys.exit(1 if refused else 0)
