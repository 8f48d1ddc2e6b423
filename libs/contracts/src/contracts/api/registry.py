import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from contracts.api.common import FieldError
from contracts.enums import CadreStatus, EligibilityCategory, ManagementTier, Sex

# A BHYT (health-insurance) card code in one of the three forms in use (QĐ 4750 appendix; VN Core's
# NamingSystem): 15 characters (beneficiary group, benefit level 1-5, province, 10-digit BHXH number),
# the 10-digit BHXH number alone (from 04/2021), or the 12-digit CCCD (from 08/2025, NĐ 188/2025).
BHYT_PATTERN = r"^(?:[A-Z]{2}[1-5]\d{12}|\d{10}|\d{12})$"
BhytNumber = Annotated[
    str,
    Field(
        pattern=BHYT_PATTERN,
        description="BHYT card code: 15 characters (e.g. HT3680123456789), a 10-digit BHXH number or a 12-digit CCCD",
    ),
]


def _bhyt_period_problem(valid_from: date | None, valid_to: date | None) -> None:
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise ValueError(f"bhyt_valid_to ({valid_to}) is before bhyt_valid_from ({valid_from})")


class CadreBase(BaseModel):
    full_name: str = Field(min_length=2, max_length=200)
    date_of_birth: date
    sex: Sex
    national_id: str = Field(description="CCCD: 12 digits", pattern=r"^\d{12}$")
    tier: ManagementTier
    managing_unit: str = Field(description="Path of the managing board's unit, e.g. VN.68.672")
    eligibility: list[EligibilityCategory] = []
    position: str | None = Field(default=None, max_length=300)
    work_unit: str | None = Field(default=None, max_length=300)
    residence_address: str | None = Field(default=None, max_length=500)
    residence_unit: str | None = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .-]{8,16}$")
    bhyt_number: BhytNumber | None = None
    bhyt_valid_from: date | None = Field(default=None, description="BHYT card valid from (GT_THE_TU)")
    bhyt_valid_to: date | None = Field(default=None, description="BHYT card valid until (GT_THE_DEN)")

    @model_validator(mode="after")
    def _bhyt_period(self) -> "CadreBase":
        _bhyt_period_problem(self.bhyt_valid_from, self.bhyt_valid_to)
        return self


class CadreCreate(CadreBase):
    status: CadreStatus = CadreStatus.ACTIVE
    status_since: date | None = None


class CadrePublic(CadreBase):
    id: uuid.UUID
    status: CadreStatus
    status_since: date
    card_number: str | None = None
    created_at: datetime
    updated_at: datetime


class CadreUpdate(BaseModel):
    """Corrections and contact changes. Tier, status and managing unit change only through their own operations."""

    full_name: str | None = Field(default=None, min_length=2, max_length=200)
    date_of_birth: date | None = None
    sex: Sex | None = None
    national_id: str | None = Field(default=None, description="CCCD: 12 digits", pattern=r"^\d{12}$")
    eligibility: list[EligibilityCategory] | None = None
    position: str | None = Field(default=None, max_length=300)
    work_unit: str | None = Field(default=None, max_length=300)
    residence_address: str | None = Field(default=None, max_length=500)
    residence_unit: str | None = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .-]{8,16}$")
    bhyt_number: BhytNumber | None = None
    bhyt_valid_from: date | None = None
    bhyt_valid_to: date | None = None

    @model_validator(mode="after")
    def _bhyt_period(self) -> "CadreUpdate":
        _bhyt_period_problem(self.bhyt_valid_from, self.bhyt_valid_to)
        return self


class CadreChange(BaseModel):
    """One line of a cadre's history: who changed which field, when, from which value to which."""

    changed_at: datetime
    changed_by: str
    operation: str
    field: str
    old_value: str | None
    new_value: str | None
    effective_date: date | None = None
    reason: str | None = None


class Retirement(BaseModel):
    effective_date: date


class TierChange(BaseModel):
    tier: ManagementTier
    effective_date: date


class Death(BaseModel):
    effective_date: date


class Removal(BaseModel):
    effective_date: date
    reason: str = Field(min_length=3, max_length=500)


class Transfer(BaseModel):
    to_unit: str
    effective_date: date
    reason: str = Field(min_length=3, max_length=500)


class CadreFilter(BaseModel):
    """Which cadres a bulk operation selects (all given conditions hold); at least one condition is required."""

    unit: str | None = Field(default=None, description="managing unit, with everything below it")
    tier: ManagementTier | None = None
    status: CadreStatus | None = None
    residence_unit: str | None = Field(default=None, description="residence unit, with everything below it")
    ids: list[uuid.UUID] | None = None


class BulkTransfer(BaseModel):
    filter: CadreFilter
    to_unit: str
    effective_date: date
    reason: str = Field(min_length=3, max_length=500)


class BulkTransferResult(BaseModel):
    moved: int
    to_unit: str
    effective_date: date


class CardIssue(BaseModel):
    reason: str | None = Field(default=None, max_length=300)


class CardPublic(BaseModel):
    number: str
    cadre_id: uuid.UUID
    issued_on: date
    valid: bool
    invalidated_on: date | None = None
    invalidation_reason: str | None = None
    replaced_by: str | None = None


class CardLookup(BaseModel):
    """What a facility sees when a cadre presents a card."""

    number: str
    valid: bool
    cadre_id: uuid.UUID
    full_name: str
    date_of_birth: date
    sex: Sex
    tier: ManagementTier
    status: CadreStatus
    managing_unit: str
    current_card_number: str | None


class ProposalCreate(CadreCreate):
    """A person proposed for inclusion (survey of proposed beneficiaries)."""

    justification: str = Field(min_length=3, max_length=2000)


class Appraisal(BaseModel):
    recommend: bool
    note: str = Field(min_length=3, max_length=2000)


class Decision(BaseModel):
    reason: str = Field(min_length=3, max_length=2000)


ProposalStatus = Literal["proposed", "appraised", "approved", "rejected"]


class ProposalPublic(BaseModel):
    id: uuid.UUID
    status: ProposalStatus
    full_name: str
    national_id: str
    tier: ManagementTier
    managing_unit: str
    justification: str
    proposed_by: str
    proposed_at: datetime
    appraised_by: str | None = None
    appraisal_recommend: bool | None = None
    appraisal_note: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    cadre_id: uuid.UUID | None = None


class DuplicateGroup(BaseModel):
    """Cadres sharing a folded name and a date of birth: likely the same person entered twice."""

    name_folded: str
    date_of_birth: date
    cadres: list[CadrePublic]


class ImportRow(BaseModel):
    row: int = Field(description="1-based row number in the file, the header being row 1")
    errors: list[FieldError] = []
    warnings: list[str] = []


class ImportReport(BaseModel):
    dry_run: bool
    total_rows: int
    valid_rows: int
    imported: int
    skipped_rows: list[int] = []
    rows: list[ImportRow] = Field(default=[], description="every row with a problem or a warning")


class CadreCount(BaseModel):
    managing_unit: str
    tier: ManagementTier
    status: CadreStatus
    count: int
    suppressed: list[str] = []  # fields hidden from an aggregate-only caller (shown as 0 here; never a fact)


class UnitPublic(BaseModel):
    path: str
    code: str
    name: str
    level: str
    parent_path: str | None
    valid_from: date
    valid_to: date | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90, description="WGS 84; for the dashboard's map")
    longitude: float | None = Field(default=None, ge=-180, le=180)


class RenameUnit(BaseModel):
    kind: Literal["rename"] = "rename"
    unit: str
    name: str = Field(min_length=2, max_length=200)


class MergeUnits(BaseModel):
    """Several units become one. The target is one of the sources (it survives, in a new version) or a new unit."""

    kind: Literal["merge"] = "merge"
    sources: list[str] = Field(min_length=1)
    target: str
    target_name: str | None = Field(default=None, max_length=200)


class SplitTarget(BaseModel):
    path: str
    name: str = Field(min_length=2, max_length=200)


class SplitUnit(BaseModel):
    """One unit becomes several siblings; every cadre it manages and every child unit must be mapped explicitly."""

    kind: Literal["split"] = "split"
    source: str
    into: list[SplitTarget] = Field(min_length=2)
    cadres: dict[uuid.UUID, str] = Field(default={}, description="cadre id -> path of one of `into`")
    children: dict[str, str] = Field(default={}, description="child unit path -> path of one of `into`")


class RetierTarget(BaseModel):
    """What a dissolved level's cadres of one tier become: a new tier, managed where the reorganisation sends
    them (`unit` absent), by one unit (a path, as it stands after the reorganisation or before it), or by
    the commune they live in (`"residence"`: their residence unit, followed through the reorganisation)."""

    tier: ManagementTier
    unit: str | None = Field(default=None, description='a unit path, "residence", or absent')


class DissolveLevel(BaseModel):
    """Every unit of `level` under `under` ends; its children move up to its parent, its cadres to its parent.

    `retier` maps a tier of the cadres managed under the dissolved units (at them or below) to what they become,
    e.g. {"district": {"tier": "provincial_3"}} or {"district": {"tier": "commune", "unit": "residence"}}:
    each change is in the cadre's history on the reorganisation's date. A reorganisation that would leave a
    cadre with a tier its new board may not manage on that date is refused, naming the cadres."""

    kind: Literal["dissolve_level"] = "dissolve_level"
    under: str
    level: Literal["district", "commune"]
    retier: dict[ManagementTier, RetierTarget] = Field(default={}, description="old tier -> new tier (and board)")


ReorganisationOperation = Annotated[RenameUnit | MergeUnits | SplitUnit | DissolveLevel, Field(discriminator="kind")]


class Reorganisation(BaseModel):
    """Operations applied in order, atomically, all effective on one date."""

    effective_date: date
    reason: str = Field(min_length=3, max_length=500)
    operations: list[ReorganisationOperation] = Field(min_length=1)


class ReorganisationResult(BaseModel):
    id: uuid.UUID
    effective_date: date
    retired_units: list[str]
    created_units: list[str]
    mapping: dict[str, list[str]]
    moved_cadres: int
