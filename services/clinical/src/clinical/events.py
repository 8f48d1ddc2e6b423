"""Clinical's events, built from the contract's models (contracts.events.clinical) for a record's head.

Outbox rows are written with `Outbox.append_payloads`: one real envelope per run of events of one type
gives the headers, and each row carries its event's JSON dump. A bulk of a thousand records makes a
thousand events; wrapping each in an envelope of its own is what that path avoids. Building and dumping
the models adds about 6 ms per thousand events, some 2% of a bulk's CPU time on SQLite (measured).

No diagnosis text goes on the bus (contracts.events.clinical): summaries carry ICD-10 codes only, which
reporting needs for its chronic-condition groups, follow-ups their due date and note but not their finding,
and a central-tier cadre's withdrawal and follow-up notes are published without the HIS's free text.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinical import domain
from clinical.heads import Head
from contracts.codesystems import CodedValue
from contracts.enums import ManagementTier
from contracts.envelope import DomainEvent
from contracts.events.clinical import (
    ClinicalRecordAmended,
    ClinicalRecordRecorded,
    ClinicalRecordWithdrawn,
    FollowUpSummary,
    RecordSummary,
)
from servicekit.outbox import Outbox, RawEvent


def follow_up_summaries(follow_ups: list[dict[str, Any]], tier: str) -> list[FollowUpSummary]:
    """A record's follow-ups for scheduling: the due date and what is to be done, never the finding (diagnosis
    text); for a central-tier cadre not the HIS's note either (it may name a diagnosis too)."""
    withheld = tier == ManagementTier.CENTRAL
    return [
        FollowUpSummary(
            index=index,
            due_by=date.fromisoformat(item["due_by"]) if item.get("due_by") else None,
            note=None if withheld else item.get("action"),
            note_withheld=withheld and bool(item.get("action")),
        )
        for index, item in enumerate(follow_ups)
    ]


def record_summary(head: Head, summary: domain.Summary) -> RecordSummary:
    """The head's current version as other services see it (`summary` is its body summarised)."""
    classification = summary.classification
    return RecordSummary(
        record_id=head.id,
        version=head.version,
        kind=summary.kind,
        cadre_id=head.cadre_id,
        facility=head.facility,
        external_id=head.external_id,
        occurred_on=summary.occurred_on,
        ended_on=summary.ended_on,
        plan_id=summary.plan_id,
        round_id=summary.round_id,
        at_home=summary.at_home,
        classification=CodedValue(**classification) if classification else None,
        referral_kind=summary.referral_kind,
        diagnoses=summary.diagnoses,
        needs_follow_up=summary.needs_follow_up,
        status=head.status,
        discharge_outcome=summary.discharge_outcome,
        referral_status=summary.referral_status,
        chronic_groups=summary.chronic_groups,
        recorded_at=head.updated_at,
        follow_ups=follow_up_summaries(summary.follow_ups, head.tier),
    )


@dataclass(frozen=True)
class Change:
    """One event to publish and the record it is about (whose cadre keys it and scopes its headers)."""

    event: DomainEvent
    head: Head


def recorded(head: Head, summary: domain.Summary) -> Change:
    return Change(ClinicalRecordRecorded(record=record_summary(head, summary)), head)


def amended(head: Head, summary: domain.Summary, previous_version: int, change: str) -> Change:
    event = ClinicalRecordAmended(record=record_summary(head, summary), previous_version=previous_version, change=change)
    return Change(event, head)


def withdrawn(head: Head, summary: domain.Summary, reason: str) -> Change:
    """The withdrawal; a central-tier cadre's free-text reason stays in clinical (it may name a diagnosis)."""
    if head.tier == ManagementTier.CENTRAL:
        return Change(ClinicalRecordWithdrawn(record=record_summary(head, summary), reason="", reason_withheld=True), head)
    return Change(ClinicalRecordWithdrawn(record=record_summary(head, summary), reason=reason), head)


async def append_events(session: AsyncSession, outbox: Outbox, changes: list[Change]) -> None:
    """Outbox rows for every event of a request, in order, one statement per run of events of one type
    (a thousand rows at most each). Keyed, like every clinical event, by the cadre's id."""
    start = 0
    while start < len(changes):
        end = start
        while end < len(changes) and type(changes[end].event) is type(changes[start].event):
            end += 1
        run = changes[start:end]
        await outbox.append_payloads(
            session,
            run[0].event,
            [RawEvent(str(c.head.cadre_id), c.event.model_dump(mode="json"), c.head.managing_unit, c.head.tier) for c in run],
        )
        start = end
