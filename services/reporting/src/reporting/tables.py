"""Reporting's read models, and only those. Every row is derived from events; `rebuild` empties and refills them.

No names, birth dates, IDs or addresses are kept: a cadre is an id with a managing unit, a tier and a status.
`province` columns repeat the first two segments of the unit path so that province queries use an index.

Attribution: every dated row (interval, invitation, record, diagnosis, registration) carries the unit its cadre
was managed by on the row's own date (`managing_unit`, `province`, `tier`: the units as they stood then) and
that unit followed through the reorganisations since (`today_unit`, `today_province`), both recomputed when the
cadre's history or the units' successions change (`reporting.attribution`): the reader's basis picks the
columns, and no query joins per record.
"""

import uuid
from datetime import date, datetime

from sqlalchemy import Index, text
from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel

from servicekit.columns import TripColumns, UnitColumns
from servicekit.runtime import kit_tables_of


class ReportingModel(SQLModel, registry=orm_registry()):
    pass


metadata = ReportingModel.metadata
KIT = kit_tables_of(metadata)


class CadreFact(ReportingModel, table=True):
    """One row per cadre: the latest snapshot the registry published, without personal details."""

    cadre_id: uuid.UUID = Field(primary_key=True)
    managing_unit: str = Field(max_length=100, index=True)
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)
    status_since: date
    updated_at: datetime
    province: str = Field(default="", max_length=100, index=True)


class CadreChange(ReportingModel, table=True):
    """Each cadre event as a dated state: the source of `CadreInterval` (recomputed per cadre, so order-proof)."""

    event_id: uuid.UUID = Field(primary_key=True)
    cadre_id: uuid.UUID = Field(index=True)
    effective_on: date
    recorded_at: datetime
    managing_unit: str = Field(max_length=100)
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)


class CadreInterval(ReportingModel, table=True):
    """A cadre's (unit, tier, status) from `valid_from` up to, not including, `valid_to` (open when None)."""

    __table_args__ = (
        # wide on purpose: the dashboard's counts are answered from the index alone (index-only scans)
        Index(
            "ix_cadreinterval_province_from", "province", "valid_from", "valid_to", "status", "tier", "managing_unit", "cadre_id"
        ),
        Index("ix_cadreinterval_cadre_from", "cadre_id", "valid_from", "valid_to", "status"),
        Index("ix_cadreinterval_today_province_from", "today_province", "valid_from"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cadre_id: uuid.UUID
    managing_unit: str = Field(max_length=100)
    province: str = Field(max_length=100)
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)
    valid_from: date
    valid_to: date | None = None
    # nullable so that bulk loads naming only the columns above still load; the projections always fill them
    today_unit: str | None = Field(default=None, max_length=100)
    today_province: str | None = Field(default=None, max_length=100)


class UnitFact(ReportingModel, UnitColumns, table=True):
    """A unit's latest version: what the dashboard offers, by today's names."""

    path: str = Field(primary_key=True, max_length=100)
    latitude: float | None = None  # WGS 84 (the registry's national data): where the dashboard's map draws it
    longitude: float | None = None


class UnitVersion(ReportingModel, UnitColumns, table=True):
    """Every version of a unit (a rename or a reorganisation starts one): the name a past period's report prints."""

    path: str = Field(primary_key=True, max_length=100)
    valid_from: date = Field(primary_key=True)
    latitude: float | None = None
    longitude: float | None = None


class UnitSuccessor(ReportingModel, table=True):
    """A reorganisation's mapping: `old_path` continues as `new_path` from `effective_on` (many-to-many)."""

    old_path: str = Field(primary_key=True, max_length=100)
    new_path: str = Field(primary_key=True, max_length=100)
    effective_on: date


class ExamPlanFact(ReportingModel, table=True):
    plan_id: uuid.UUID = Field(primary_key=True)
    board_unit: str = Field(max_length=100, index=True)
    year: int
    title: str = Field(max_length=300)


class ExamRoundFact(ReportingModel, table=True):
    round_id: uuid.UUID = Field(primary_key=True)
    plan_id: uuid.UUID = Field(index=True)
    number: int
    starts_on: date
    ends_on: date


TODAY_INVITATION_COLUMNS = ("status", "exam_recorded", "tier", "today_unit", "cadre_id")
TODAY_RECORD_COLUMNS = ("kind", "withdrawn", "referral_kind", "tier", "today_unit", "cadre_id")


class InvitationFact(ReportingModel, table=True):
    """One invitation: who (id only), which plan and round, its latest status; `exam_recorded` from clinical."""

    __table_args__ = (
        Index(
            "ix_invitationfact_province_date",
            *("province", "appointment_date", "status", "exam_recorded", "plan_id", "round_id", "tier", "managing_unit"),
            "cadre_id",
        ),
        Index("ix_invitationfact_cadre_round", "cadre_id", "round_id"),
        # covering on PostgreSQL, as the province index is: the roll-up on today's units reads it alone
        Index(
            "ix_invitationfact_today_province_date",
            "today_province",
            "appointment_date",
            postgresql_include=list(TODAY_INVITATION_COLUMNS),
        ),
    )

    invitation_id: uuid.UUID = Field(primary_key=True)
    plan_id: uuid.UUID
    round_id: uuid.UUID
    cadre_id: uuid.UUID
    tier: str = Field(max_length=30)
    managing_unit: str = Field(max_length=100)
    province: str = Field(max_length=100)
    facility: str = Field(max_length=100)
    appointment_date: date
    status: str = Field(default="invited", max_length=20)
    status_on: date | None = None
    exam_recorded: bool = False
    today_unit: str | None = Field(default=None, max_length=100)
    today_province: str | None = Field(default=None, max_length=100)


EXAM_INDEX_COLUMNS = (
    *("occurred_on", "cadre_id", "record_id", "classification", "tier"),
    *("managing_unit", "province", "today_unit", "today_province"),
)
EXAMS_PG = "kind = 'periodic_exam' AND withdrawn IS false AND classification IS NOT NULL"
EXAMS_SQLITE = "kind = 'periodic_exam' AND withdrawn IS 0 AND classification IS NOT NULL"


class ClinicalFact(ReportingModel, table=True):
    """The summary of one clinical record at its latest version; withdrawn records stay, flagged, and count nowhere."""

    __table_args__ = (
        Index(
            "ix_clinicalfact_province_occurred",
            *("province", "occurred_on", "kind", "withdrawn", "classification", "tier", "managing_unit", "referral_kind"),
            *("month", "cadre_id", "record_id"),
        ),
        Index("ix_clinicalfact_cadre_kind", "cadre_id", "kind", "occurred_on", "withdrawn", "classification", "record_id"),
        Index(
            "ix_clinicalfact_today_province_occurred",
            "today_province",
            "occurred_on",
            postgresql_include=list(TODAY_RECORD_COLUMNS),
        ),
        # the live classified exams alone, by date: the national classification's latest exams, index-only
        Index("ix_clinicalfact_exams", *EXAM_INDEX_COLUMNS, postgresql_where=text(EXAMS_PG), sqlite_where=text(EXAMS_SQLITE)),
    )

    record_id: uuid.UUID = Field(primary_key=True)
    version: int
    kind: str = Field(max_length=30)
    cadre_id: uuid.UUID
    facility: str = Field(max_length=100)
    occurred_on: date
    month: str = Field(max_length=7)  # YYYY-MM of occurred_on
    ended_on: date | None = None
    plan_id: uuid.UUID | None = None
    round_id: uuid.UUID | None = None
    at_home: bool = False
    classification: str | None = Field(default=None, max_length=10)
    referral_kind: str | None = Field(default=None, max_length=20)
    needs_follow_up: bool = False
    withdrawn: bool = False
    # on `occurred_on`; the envelope's scope keys until the cadre's history is known
    managing_unit: str | None = Field(default=None, max_length=100)
    province: str | None = Field(default=None, max_length=100)
    tier: str | None = Field(default=None, max_length=30)
    today_unit: str | None = Field(default=None, max_length=100)
    today_province: str | None = Field(default=None, max_length=100)


class DiagnosisFact(ReportingModel, table=True):
    """A chronic-condition diagnosis of a live record, denormalised for prevalence and comorbidity."""

    __table_args__ = (
        Index("ix_diagnosisfact_province_occurred", "province", "occurred_on"),
        Index("ix_diagnosisfact_cadre", "cadre_id", "occurred_on", "chronic_group"),
        Index("ix_diagnosisfact_today_province_occurred", "today_province", "occurred_on"),
    )

    record_id: uuid.UUID = Field(primary_key=True)
    chronic_group: str = Field(primary_key=True, max_length=30)
    cadre_id: uuid.UUID
    occurred_on: date
    managing_unit: str | None = Field(default=None, max_length=100)
    province: str | None = Field(default=None, max_length=100)
    tier: str | None = Field(default=None, max_length=30)
    today_unit: str | None = Field(default=None, max_length=100)
    today_province: str | None = Field(default=None, max_length=100)


class ConvalescenceTripFact(ReportingModel, TripColumns, table=True):
    """A convalescence trip (nghỉ dưỡng) as scheduling published it."""

    trip_id: uuid.UUID = Field(primary_key=True)
    published_at: datetime  # the envelope's time: a later publication wins
    eligible: int | None = None  # None: published before scheduling said how many were eligible


class ConvalescenceRegistrationFact(ReportingModel, table=True):
    """A cadre's registration for a trip (id, unit and tier only) at its latest state: registered or cancelled.

    A re-registration after a cancellation keeps its id; the event with the later envelope time wins. The trip's
    start date comes from the registration event, so a cancellation seen first leaves it empty until then.
    """

    __table_args__ = (
        Index("ix_convalescenceregistrationfact_province_start", "province", "trip_starts_on"),
        Index("ix_convalescenceregistrationfact_cadre", "cadre_id"),
    )

    registration_id: uuid.UUID = Field(primary_key=True)
    trip_id: uuid.UUID = Field(index=True)
    cadre_id: uuid.UUID
    board_unit: str | None = Field(default=None, max_length=100)
    trip_starts_on: date | None = None
    managing_unit: str | None = Field(default=None, max_length=100)
    province: str | None = Field(default=None, max_length=100)
    tier: str | None = Field(default=None, max_length=30)
    status: str = Field(max_length=20)  # registered | cancelled
    registered_on: date | None = None
    cancelled_on: date | None = None
    updated_at: datetime  # the envelope time of the event that set the status
    today_unit: str | None = Field(default=None, max_length=100)
    today_province: str | None = Field(default=None, max_length=100)


class RecordMonthCount(ReportingModel, table=True):
    """Pre-aggregate of `ClinicalFact`: live records per unit (on both bases), tier, month, kind and referral kind.

    Kept by `reporting.preaggregates` in the transaction that writes the records (deltas of the rows changed);
    the national and provincial figures read whole months here and the period's partial months from the facts.
    Empty key parts are '' (not NULL): they are primary-key columns, and '' matches no unit a scope names.
    """

    __table_args__ = (Index("ix_recordmonthcount_today_province_month", "today_province", "month"),)

    province: str = Field(primary_key=True, max_length=100)
    month: str = Field(primary_key=True, max_length=7)
    managing_unit: str = Field(primary_key=True, max_length=100)
    tier: str = Field(primary_key=True, max_length=30)
    kind: str = Field(primary_key=True, max_length=30)
    referral_kind: str = Field(primary_key=True, max_length=20)
    today_unit: str = Field(primary_key=True, max_length=100)
    today_province: str = Field(primary_key=True, max_length=100)
    records: int = 0


class InvitationMonthCount(ReportingModel, table=True):
    """Pre-aggregate of `InvitationFact`: appointments not cancelled per unit (both bases), tier, the cadre's status
    on the appointment day ('' when its history says nothing of that day), plan, round and month; invited and
    examined. Kept like `RecordMonthCount`."""

    __table_args__ = (Index("ix_invitationmonthcount_today_province_month", "today_province", "month"),)

    province: str = Field(primary_key=True, max_length=100)
    month: str = Field(primary_key=True, max_length=7)
    managing_unit: str = Field(primary_key=True, max_length=100)
    tier: str = Field(primary_key=True, max_length=30)
    cadre_status: str = Field(primary_key=True, max_length=20)
    plan_id: uuid.UUID = Field(primary_key=True)
    round_id: uuid.UUID = Field(primary_key=True)
    today_unit: str = Field(primary_key=True, max_length=100)
    today_province: str = Field(primary_key=True, max_length=100)
    invited: int = 0
    examined: int = 0


class HeadcountKey(SQLModel):
    """What a headcount is counted by: the unit as then and today, tier, status, and the measure
    ('' cadres, group:<g>, groups:<n>: reporting.headcounts.steps). Not a table itself."""

    province: str = Field(primary_key=True, max_length=100)
    managing_unit: str = Field(primary_key=True, max_length=100)
    tier: str = Field(primary_key=True, max_length=30)
    status: str = Field(primary_key=True, max_length=20)
    today_unit: str = Field(primary_key=True, max_length=100)
    today_province: str = Field(primary_key=True, max_length=100)
    measure: str = Field(primary_key=True, max_length=40)


class HeadcountTotal(ReportingModel, HeadcountKey, table=True):
    """Pre-aggregate of `CadreInterval` and `DiagnosisFact`: cadres per key and measure after every step of their
    histories (`reporting.headcounts`). A headcount on a day is this less the `HeadcountStep`s after that day."""

    __table_args__ = (Index("ix_headcounttotal_today_province", "today_province"),)

    cadres: int = 0


class HeadcountStep(ReportingModel, HeadcountKey, table=True):
    """The changes of `HeadcountTotal`'s counts summed by year, month and day (`grain`, from `starts_on`): the
    steps after a day are a few rows, whatever the length of the history before it."""

    __table_args__ = (
        Index("ix_headcountstep_grain_starts", "grain", "starts_on"),
        Index("ix_headcountstep_today_province_grain_starts", "today_province", "grain", "starts_on"),
    )

    grain: str = Field(primary_key=True, max_length=5)  # year | month | day
    starts_on: date = Field(primary_key=True)
    change: int = 0


# Indexes only the figures read: no projection looks rows up by them (a reorganisation's remapping, the one writer
# that narrows by province, reads a few thousand rows either way). A rebuild on PostgreSQL drops them while it
# refills the read models and builds each once at the end, instead of updating every one of them for every event.
FIGURE_INDEXES = frozenset(
    {
        "ix_cadrefact_managing_unit",
        "ix_cadrefact_province",
        "ix_cadreinterval_province_from",
        "ix_cadreinterval_today_province_from",
        "ix_invitationfact_province_date",
        "ix_invitationfact_today_province_date",
        "ix_clinicalfact_province_occurred",
        "ix_clinicalfact_today_province_occurred",
        "ix_clinicalfact_exams",
        "ix_diagnosisfact_province_occurred",
        "ix_diagnosisfact_today_province_occurred",
        "ix_recordmonthcount_today_province_month",
        "ix_invitationmonthcount_today_province_month",
        "ix_headcounttotal_today_province",
        "ix_headcountstep_grain_starts",
        "ix_headcountstep_today_province_grain_starts",
    }
)

READ_MODELS: tuple[type[ReportingModel], ...] = (
    CadreFact,
    CadreChange,
    CadreInterval,
    UnitFact,
    UnitVersion,
    UnitSuccessor,
    ExamPlanFact,
    ExamRoundFact,
    InvitationFact,
    ClinicalFact,
    DiagnosisFact,
    ConvalescenceTripFact,
    ConvalescenceRegistrationFact,
    RecordMonthCount,
    InvitationMonthCount,
    HeadcountTotal,
    HeadcountStep,
)


class FigureRecount(ReportingModel, table=True):
    """Present while the figures' pre-aggregates (`RecordMonthCount`, `InvitationMonthCount`, the headcounts) must
    be counted again from the facts: a rebuild replays the facts alone and asks for it as it empties them; its end
    counts them and removes the row. A rebuild stopped in between leaves it, and the service counts them when it
    starts, before its consumers run: the projections keep the figures by differences, which need a right start."""

    id: int = Field(default=1, primary_key=True)
    asked_at: datetime


class IssuedReport(ReportingModel, table=True):
    """A report as issued: not a read model (a rebuild keeps it), the document the board sent, verbatim."""

    report_id: uuid.UUID = Field(primary_key=True)
    board_unit: str = Field(max_length=100, index=True)
    kind: str = Field(max_length=20)
    period_start: date
    period_end: date
    issued_at: datetime
    issued_by: str = Field(max_length=200)
    body: str  # the BoardReport as JSON


# The approval chain's rows live with their feature (reporting.approvals.tables) on this metadata: imported here so
# that whatever uses `metadata` (the migrations' check, the runtime) knows them.
from reporting.approvals import tables as approval_tables  # noqa: E402, F401
