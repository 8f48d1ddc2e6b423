"""Clinical's events as the outbox stores them: built straight into their JSON payloads.

A bulk makes up to a thousand events; building each as pydantic models and dumping them again cost more
than storing the records. `summary_payload` writes the JSON shape of contracts' `RecordSummary` directly
(tests/test_clinical_events.py holds it equal to pydantic's own dump for every kind of record and change),
and every run of events of one type goes to `Outbox.append_payloads` with a real event of that type,
validated from the run's first payload, as its sample: a payload that drifted from the contract fails
there, before anything is stored.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from clinical import domain
from clinical.service.heads import Head
from contracts.envelope import DomainEvent
from contracts.events.clinical import ClinicalRecordAmended, ClinicalRecordRecorded, ClinicalRecordWithdrawn
from servicekit.outbox import Outbox, RawEvent

_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def json_datetime(value: datetime) -> str:
    """A datetime exactly as pydantic writes it in JSON."""
    return str(_DATETIME.dump_python(value, mode="json"))


def summary_payload(head: Head, summary: domain.Summary) -> dict[str, Any]:
    """`RecordSummary` of the head's current version, in JSON (the head's body summarised as `summary`)."""
    classification = summary.classification
    return {
        "record_id": str(head.id),
        "version": head.version,
        "kind": summary.kind.value,
        "cadre_id": str(head.cadre_id),
        "facility": head.facility,
        "external_id": head.external_id,
        "occurred_on": summary.occurred_on.isoformat(),
        "ended_on": summary.ended_on.isoformat() if summary.ended_on else None,
        "plan_id": str(summary.plan_id) if summary.plan_id else None,
        "round_id": str(summary.round_id) if summary.round_id else None,
        "at_home": summary.at_home,
        "classification": (
            {"system": classification["system"], "version": classification["version"], "code": classification["code"]}
            if classification
            else None
        ),
        "referral_kind": summary.referral_kind.value if summary.referral_kind else None,
        "diagnoses": list(summary.diagnoses),
        "needs_follow_up": summary.needs_follow_up,
        "status": head.status,
        "discharge_outcome": summary.discharge_outcome,
        "referral_status": summary.referral_status,
        "chronic_groups": list(summary.chronic_groups),
        "recorded_at": json_datetime(head.updated_at),
    }


@dataclass(frozen=True)
class Change:
    """One event to publish: its type, the record it is about, and its JSON payload."""

    event: type[DomainEvent]
    head: Head
    payload: dict[str, Any]


def recorded(head: Head, summary: domain.Summary) -> Change:
    return Change(ClinicalRecordRecorded, head, {"record": summary_payload(head, summary)})


def amended(head: Head, summary: domain.Summary, previous_version: int, change: str) -> Change:
    payload = {"record": summary_payload(head, summary), "previous_version": previous_version, "change": change}
    return Change(ClinicalRecordAmended, head, payload)


def withdrawn(head: Head, summary: domain.Summary, reason: str) -> Change:
    return Change(ClinicalRecordWithdrawn, head, {"record": summary_payload(head, summary), "reason": reason})


async def append_events(session: AsyncSession, outbox: Outbox, changes: list[Change]) -> None:
    """Outbox rows for every event of a request, in order, one statement per run of events of one type
    (a thousand rows at most each). Keyed, like every clinical event, by the cadre's id."""
    start = 0
    while start < len(changes):
        end = start
        while end < len(changes) and changes[end].event is changes[start].event:
            end += 1
        run = changes[start:end]
        sample = run[0].event.model_validate(run[0].payload)
        await outbox.append_payloads(
            session,
            sample,
            [RawEvent(str(c.head.cadre_id), c.payload, c.head.managing_unit, c.head.tier) for c in run],
        )
        start = end
