"""Events published by clinical: topic `cadrecare.clinical.record.v1`.

No diagnosis text is ever on the bus: a summary carries diagnoses as ICD-10 codes only (reporting groups
them into its chronic-condition figures), never their names, descriptions or any free-text note of the
record. The one free text an event may carry, the reason a HIS gave for withdrawing a record, is
withheld for central-tier cadres (`ClinicalRecordWithdrawn.reason_withheld`), whose health records are
the most sensitive tier: a HIS may write a diagnosis into it ("posted for the wrong patient: not C34").
A record's follow-ups (a re-exam appointment: QĐ 130's XML14) travel with their due date and the HIS's
note of what is to be done, never their finding (which is diagnosis text); the note too is withheld for
central-tier cadres (`FollowUpSummary.note_withheld`).
"""

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel

from contracts.codesystems import CodedValue
from contracts.enums import EncounterKind, ReferralKind
from contracts.envelope import DomainEvent


class FollowUpSummary(BaseModel):
    """One follow-up a record asks for (e.g. a re-exam appointment), for scheduling's follow-up list.
    `index` is its place in the record's follow-ups: with the record id, what names it across versions."""

    index: int
    due_by: date | None = None
    note: str | None = None  # what is to be done ("Tái khám (giấy hẹn 12)"); never the finding
    note_withheld: bool = False  # a central-tier cadre's note stays in clinical


class RecordSummary(BaseModel):
    """What other services need of a clinical record; never the full findings and never diagnosis text:
    diagnoses are ICD-10 codes, kept for every tier because reporting's chronic-condition groups are
    computed from them."""

    record_id: uuid.UUID
    version: int
    kind: EncounterKind
    cadre_id: uuid.UUID
    facility: str
    external_id: str
    occurred_on: date
    ended_on: date | None = None  # discharge date of an admission
    plan_id: uuid.UUID | None = None
    round_id: uuid.UUID | None = None
    at_home: bool = False
    classification: CodedValue | None = None
    referral_kind: ReferralKind | None = None
    diagnoses: list[str] = []  # ICD-10 codes only, no names or descriptions
    needs_follow_up: bool = False
    # Added in v1 (optional, consumers may ignore them):
    status: str = "current"  # current | withdrawn
    discharge_outcome: str | None = None  # admissions: recovered, improved, ..., died
    referral_status: str | None = None  # referrals: issued, accepted, completed, cancelled
    chronic_groups: list[str] = []  # chronic-condition groups of the diagnoses (clinical's grouping data)
    recorded_at: datetime | None = None
    # Added in v1 (optional): the follow-ups behind `needs_follow_up`; empty from producers before them
    follow_ups: list[FollowUpSummary] = []


class ClinicalRecordRecorded(DomainEvent):
    event_type: ClassVar[str] = "vn.cadrecare.clinical.record.recorded"
    record: RecordSummary


class ClinicalRecordAmended(DomainEvent):
    event_type: ClassVar[str] = "vn.cadrecare.clinical.record.amended"
    record: RecordSummary
    previous_version: int
    change: str = "correction"  # correction | transfer | discharge (added in v1, optional)


class ClinicalRecordWithdrawn(DomainEvent):
    """A record posted in error, kept and marked withdrawn. For a central-tier cadre the HIS's free-text
    reason is not published: `reason` is empty and `reason_withheld` true (the reason stays in clinical,
    readable by those who may read the record)."""

    event_type: ClassVar[str] = "vn.cadrecare.clinical.record.withdrawn"
    record: RecordSummary
    reason: str
    # Added in v1 (optional, consumers may ignore it):
    reason_withheld: bool = False


EVENTS: tuple[type[DomainEvent], ...] = (ClinicalRecordRecorded, ClinicalRecordAmended, ClinicalRecordWithdrawn)
