"""What clinical's record events do to follow-ups: each follow-up a record version asks for is one follow-up
here, named by (record, position); a corrected version replaces them, a withdrawal cancels them. No caller:
the system acts on every board's follow-ups."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.scheduling import FollowUpStatus
from contracts.events.clinical import (
    ClinicalRecordAmended,
    ClinicalRecordRecorded,
    ClinicalRecordWithdrawn,
    FollowUpSummary,
    RecordSummary,
)
from scheduling.domain import FROM_RECORD, SYSTEM, FollowUpStep, KeptFollowUp, asked_follow_ups, follow_up_steps
from scheduling.follow_ups.queries import of_record, open_of_cadre
from scheduling.tables import FollowUp
from servicekit import clock

F = FollowUpStatus
NOTE_LENGTH = 4000  # the column's; clinical's API allows no longer, an older producer is cut rather than refused
RecordEvent = ClinicalRecordRecorded | ClinicalRecordAmended | ClinicalRecordWithdrawn


def _close(follow_up: FollowUp, on: date, by: str, note: str) -> None:
    follow_up.state, follow_up.closed_on, follow_up.closed_by, follow_up.closed_note = F.CANCELLED.value, on, by, note
    follow_up.updated_at = clock.now()


async def apply_record(session: AsyncSession, event: RecordEvent, on: date) -> None:
    """One record event (`on`: the Vietnam date it happened) applied to the record's follow-ups."""
    record = event.record
    asked = {item.index: item for item in ([] if isinstance(event, ClinicalRecordWithdrawn) else asked_follow_ups(record))}
    if not asked and isinstance(event, ClinicalRecordRecorded):
        return  # a new record without follow-ups: nothing of it can be kept (no look-up for most records)
    kept = {row.position: row for row in await session.scalars(of_record(record.record_id))}
    known = {p: KeptFollowUp(F(row.state), row.closed_by, row.record_version) for p, row in kept.items()}
    withdrawn = isinstance(event, ClinicalRecordWithdrawn) or record.status == "withdrawn"
    why = "the clinical record was withdrawn" if withdrawn else f"no longer in version {record.version} of the clinical record"
    for position, step in follow_up_steps(known, asked.keys(), record.version).items():
        if step is FollowUpStep.CANCEL:
            _close(kept[position], on, FROM_RECORD, why)
            kept[position].record_version = record.version
            session.add(kept[position])
            continue
        details = _details(record, asked[position])
        row = kept.get(position)
        if row is None:
            row = FollowUp(record_id=record.record_id, position=position, state=F.OPEN.value, **details)
        else:
            for name, value in details.items():
                setattr(row, name, value)
            row.updated_at = clock.now()
        if step is FollowUpStep.REOPEN:
            row.state, row.closed_on, row.closed_by, row.closed_note = F.OPEN.value, None, None, None
        session.add(row)
    await session.flush()


def _details(record: RecordSummary, item: FollowUpSummary) -> dict[str, Any]:
    """A record version's details of one follow-up (its state, and so a board's done or cancel, untouched)."""
    return {
        "record_version": record.version,
        "record_kind": record.kind.value,
        "record_external_id": record.external_id,
        "record_occurred_on": record.occurred_on,
        "cadre_id": record.cadre_id,
        "facility": record.facility,
        "due_on": item.due_by,
        "note": item.note[:NOTE_LENGTH] if item.note else None,
        "note_withheld": item.note_withheld,
    }


async def cancel_for_cadre(session: AsyncSession, cadre_id: uuid.UUID, reason: str, on: date) -> None:
    """A deceased or removed cadre: their open follow-ups are cancelled (for good: a later version of the
    record does not reopen them, being closed by the system and not by the record)."""
    for row in await session.scalars(open_of_cadre(cadre_id)):
        _close(row, on, SYSTEM, reason)
        session.add(row)
    await session.flush()
