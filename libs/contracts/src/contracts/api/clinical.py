"""Public API of clinical: what a hospital information system (HIS) posts, and what readers get back.

A HIS posts one record (`POST /his/records`) or up to `MAX_BULK_ITEMS` of mixed kinds
(`POST /his/records/bulk`). Every record carries the facility's own identifier (`external_id`);
(facility, external_id) names one record for ever: posting it again with the same content answers
"existed", with different content makes a new version ("amended"). The cadre is named by the
health-care card number or the CCCD (national_id). See docs/his-integration.md.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from contracts.api.common import FieldError
from contracts.codesystems import CodedValue
from contracts.enums import EncounterKind, ReferralKind

MAX_BULK_ITEMS = 1000

ExternalId = Annotated[
    str,
    Field(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$", description="the facility's own id (printable ASCII)"),
]
Text = Annotated[str, Field(max_length=4000)]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
# JSON has no Infinity or NaN: 1e999 parses as inf, was accepted and then answered (and published) as null
Number = Annotated[float, Field(allow_inf_nan=False)]


class PatientSummary(BaseModel):
    cadres: int


class Diagnosis(BaseModel):
    """An ICD-10 code (category `I10` or subcode `E11.9`; `E119` is read as `E11.9`)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=3, max_length=10)
    description: str | None = Field(default=None, max_length=500)
    primary: bool = False


class Observation(BaseModel):
    """A measurement, lab or imaging result. A numeric value needs its unit (UCUM; "1" for a pure number)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=50, description='e.g. "weight", "bp_systolic", a LOINC code')
    name: str | None = Field(default=None, max_length=200)
    value: Number | str
    unit: str | None = Field(default=None, max_length=30)
    reference_range: str | None = Field(default=None, max_length=100)
    abnormal: bool | None = None


class SpecialistFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    specialty: ShortText
    findings: Text | None = None
    conclusion: Text | None = None


class FollowUp(BaseModel):
    """An abnormal finding that needs follow-up (e.g. a lung nodule to re-image in 3 months)."""

    model_config = ConfigDict(extra="forbid")

    finding: ShortText
    action: Text | None = None
    due_by: date | None = None


class WardTransfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date
    to_ward: ShortText
    from_ward: ShortText | None = None


class DischargeOutcome(StrEnum):
    RECOVERED = "recovered"  # khỏi
    IMPROVED = "improved"  # đỡ, giảm
    UNCHANGED = "unchanged"  # không thay đổi
    WORSE = "worse"  # nặng hơn
    DIED = "died"  # tử vong
    TRANSFERRED = "transferred"  # chuyển viện
    LEFT_AGAINST_ADVICE = "left_against_advice"  # trốn viện, xin về


class Discharge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    discharged_on: date
    outcome: DischargeOutcome
    diagnoses: list[Diagnosis] = []
    summary: Text | None = None


class ReferralStatus(StrEnum):
    ISSUED = "issued"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Participant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    role: ShortText | None = None
    facility: ShortText | None = None


class MedicationLine(BaseModel):
    """A drug dispensed or prescribed (QĐ 130 XML2): the code is kept, it is what a board follows for chronic care."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=255, description="MA_THUOC: active-ingredient code")
    name: str | None = Field(default=None, max_length=1024)
    strength: str | None = Field(default=None, max_length=1024)
    route: str | None = Field(default=None, max_length=50)
    dosage: str | None = Field(default=None, max_length=1024)
    quantity: Number | None = None
    unit: str | None = Field(default=None, max_length=50)
    ordered_at: datetime | None = None


class ServiceLine(BaseModel):
    """A technical service, bed day or supply (QĐ 130 XML3)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=255, description="MA_DICH_VU, else MA_VAT_TU")
    name: str | None = Field(default=None, max_length=1024)
    group: str | None = Field(default=None, max_length=10, description="MA_NHOM (QĐ 5937)")
    quantity: Number | None = None
    ordered_at: datetime | None = None
    performed_at: datetime | None = None


class ProgressNote(BaseModel):
    """A clinical progress note (QĐ 130 XML5)."""

    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None
    note: Text
    stage: Text | None = None
    consultation: Text | None = None
    surgery: Text | None = None


DETAIL_FIELDS = ("medications", "services", "results", "progress_notes", "follow_ups")


class EncounterDetail(BaseModel):
    """What a QĐ 130 export carries beyond a summary; omitted when empty: earlier records keep their hash."""

    medications: list[MedicationLine] = Field(default=[], max_length=1000)
    services: list[ServiceLine] = Field(default=[], max_length=1000)
    results: list[Observation] = Field(default=[], max_length=1000, description="lab and imaging results")
    progress_notes: list[ProgressNote] = Field(default=[], max_length=500)
    follow_ups: list[FollowUp] = Field(default=[], max_length=20, description="e.g. a re-exam appointment")

    @model_serializer(mode="wrap")
    def _omit_empty_detail(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in DETAIL_FIELDS:
                if name in data and not data[name]:
                    del data[name]
        return data


class RecordBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId
    card_number: str | None = Field(default=None, max_length=30, description="health-care card number (thẻ khám chữa bệnh)")
    national_id: str | None = Field(default=None, max_length=20, description="CCCD: 12 digits")
    occurred_on: date = Field(description="exam, visit, admission, referral or consultation date")
    diagnoses: list[Diagnosis] = Field(default=[], max_length=50)
    notes: Text | None = None


class PeriodicExamIn(RecordBase):
    """Kết quả khám sức khỏe định kỳ."""

    kind: Literal["periodic_exam"]
    plan_id: uuid.UUID | None = None
    round_id: uuid.UUID | None = None
    at_home: bool = False
    measurements: list[Observation] = Field(default=[], max_length=100)
    labs: list[Observation] = Field(default=[], max_length=300)
    imaging: list[Observation] = Field(default=[], max_length=50)
    specialist_findings: list[SpecialistFinding] = Field(default=[], max_length=50)
    classification: CodedValue | None = Field(default=None, description="e.g. system vn-moh-qd-1266-2020, version 2020, code B1")
    counselling: list[ShortText] = []
    follow_ups: list[FollowUp] = []
    conclusion: Text | None = None


class OutpatientVisitIn(EncounterDetail, RecordBase):
    """Khám ngoại trú, cấp đơn."""

    kind: Literal["outpatient_visit"]
    department: ShortText | None = None
    reason: Text | None = None
    measurements: list[Observation] = Field(default=[], max_length=100)
    prescriptions: list[ShortText] = Field(default=[], max_length=100, description="free lines")


class AdmissionIn(EncounterDetail, RecordBase):
    """Điều trị nội trú: open until discharged. `occurred_on` is the admission date."""

    kind: Literal["admission"]
    ward: ShortText
    department: ShortText | None = None
    reason: Text | None = None
    transfers: list[WardTransfer] = []
    discharge: Discharge | None = None


class TransferIn(BaseModel):
    """A move between wards of an admission already posted (found by the admission's external id)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["transfer"]
    admission_external_id: ExternalId
    card_number: str | None = Field(default=None, max_length=30)
    national_id: str | None = Field(default=None, max_length=20)
    on: date
    to_ward: ShortText
    from_ward: ShortText | None = None


class DischargeIn(BaseModel):
    """The discharge of an admission already posted (found by the admission's external id)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["discharge"]
    admission_external_id: ExternalId
    card_number: str | None = Field(default=None, max_length=30)
    national_id: str | None = Field(default=None, max_length=20)
    discharged_on: date
    outcome: DischargeOutcome
    diagnoses: list[Diagnosis] = Field(default=[], max_length=50)
    summary: Text | None = None


class ReferralIn(RecordBase):
    """Chuyển viện, chuyển tuyến. `occurred_on` is the date issued. Abroad needs the council's decision."""

    kind: Literal["referral"]
    referral_kind: ReferralKind
    to_facility: ShortText
    reason: Text | None = None
    decided_by: ShortText | None = None
    council_decision: ShortText | None = Field(default=None, description="expert-council decision (number, date)")
    status: ReferralStatus = ReferralStatus.ISSUED
    completed_on: date | None = None


class HomeVisitIn(RecordBase):
    """Khám tại nhà."""

    kind: Literal["home_visit"]
    visited_by: list[ShortText] = []
    measurements: list[Observation] = Field(default=[], max_length=100)
    findings: Text | None = None


class ConsultationIn(RecordBase):
    """Hội chẩn of the expert council."""

    kind: Literal["consultation"]
    participants: list[Participant] = Field(min_length=1, max_length=50)
    question: Text | None = None
    conclusion: Text = Field(min_length=1)


HisRecord = Annotated[
    PeriodicExamIn | OutpatientVisitIn | AdmissionIn | TransferIn | DischargeIn | ReferralIn | HomeVisitIn | ConsultationIn,
    Field(discriminator="kind"),
]


class RecordStatus(StrEnum):
    CURRENT = "current"
    WITHDRAWN = "withdrawn"


class ItemOutcome(StrEnum):
    CREATED = "created"  # a new record, version 1
    EXISTED = "existed"  # the same content was already stored: nothing changed
    AMENDED = "amended"  # a new version of the record (a correction, a transfer, a discharge)
    WITHDRAWN = "withdrawn"
    REFUSED = "refused"  # see errors; nothing of the item is stored
    NOT_STORED = "not_stored"  # valid, but not stored: all_or_nothing and another item was refused


class RecordRef(BaseModel):
    """What a HIS gets back for a record: the same for the first post and every repeat of it."""

    id: uuid.UUID
    kind: EncounterKind
    facility: str
    external_id: str
    cadre_id: uuid.UUID
    version: int
    status: RecordStatus
    occurred_on: date
    ended_on: date | None = None


class RecordReceipt(BaseModel):
    outcome: ItemOutcome
    record: RecordRef


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BULK_ITEMS,
        description="records of any kind, each as for POST /his/records (validated one by one)",
    )
    validate_only: bool = Field(default=False, description="check every item, store nothing")
    all_or_nothing: bool = Field(default=False, description="store nothing if any item is refused")


class BulkItemResult(BaseModel):
    index: int
    kind: str | None = None
    external_id: str | None = None
    outcome: ItemOutcome
    record: RecordRef | None = None
    errors: list[FieldError] = []  # loc is relative to the item, e.g. ["diagnoses", 0, "code"]


class BulkResult(BaseModel):
    validate_only: bool
    all_or_nothing: bool
    stored: bool  # whether anything of this request was written
    counts: dict[str, int]  # outcome -> number of items
    items: list[BulkItemResult]


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId
    reason: str = Field(min_length=3, max_length=1000)


class RecordPublic(RecordRef):
    """A record as readers see it: the current version's content under `data`."""

    managing_unit: str
    recorded_at: datetime
    updated_at: datetime
    classification: CodedValue | None = None
    diagnoses: list[str] = []
    needs_follow_up: bool = False
    withdrawn_reason: str | None = None
    data: dict[str, Any]


class RecordVersionPublic(BaseModel):
    version: int
    change: str  # created | correction | transfer | discharge | withdrawn
    recorded_at: datetime
    recorded_by: str
    data: dict[str, Any]
