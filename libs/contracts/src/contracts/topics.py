"""The topic registry: one topic per aggregate and major version; the message key is the aggregate id."""

from dataclasses import dataclass

from contracts.envelope import DomainEvent
from contracts.events import clinical, registry, reporting, scheduling


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    aggregate: str
    description: str
    events: tuple[type[DomainEvent], ...]

    @property
    def dead_letter(self) -> str:
        return f"{self.name}.dlq"


CADRES = Topic(
    "cadrecare.registry.cadre.v1",
    "registry",
    "cadre",
    "Cadres: registration, changes, lifecycle, transfers, cards. Key: cadre id.",
    (
        registry.CadreRegistered,
        registry.CadreUpdated,
        registry.CadreRetired,
        registry.CadreTierChanged,
        registry.CadreDied,
        registry.CadreRemoved,
        registry.CadreTransferred,
        registry.CardIssued,
    ),
)
UNITS = Topic(
    "cadrecare.registry.unit.v1",
    "registry",
    "unit",
    "Administrative units and their reorganisations. Key: unit path (of the surviving unit).",
    (registry.UnitCreated, registry.UnitRenamed, registry.UnitsReorganized),
)
EXAM_PLANS = Topic(
    "cadrecare.scheduling.plan.v1",
    "scheduling",
    "exam_plan",
    "Periodic exam plans and their rounds. Key: plan id.",
    (scheduling.ExamPlanPublished,),
)
INVITATIONS = Topic(
    "cadrecare.scheduling.invitation.v1",
    "scheduling",
    "invitation",
    "Exam invitations and their state changes. Key: invitation id.",
    (scheduling.InvitationIssued, scheduling.InvitationStatusChanged),
)
CONVALESCENCE = Topic(
    "cadrecare.scheduling.convalescence.v1",
    "scheduling",
    "convalescence_trip",
    "Convalescence trips (nghỉ dưỡng) and their registrations. Key: trip id.",
    scheduling.CONVALESCENCE_EVENTS,
)
CLINICAL_RECORDS = Topic(
    "cadrecare.clinical.record.v1",
    "clinical",
    "clinical_record",
    "Exam results, visits, admissions, referrals, home visits, consultations. Key: cadre id.",
    (clinical.ClinicalRecordRecorded, clinical.ClinicalRecordAmended, clinical.ClinicalRecordWithdrawn),
)
REPORTS = Topic(
    "cadrecare.reporting.report.v1",
    "reporting",
    "report",
    "Reports issued to a standing committee or the central board, and the steps of their approval chain. "
    "Key: report id (approval id for the chain's steps).",
    reporting.EVENTS,
)

ALL_TOPICS: tuple[Topic, ...] = (CADRES, UNITS, EXAM_PLANS, INVITATIONS, CONVALESCENCE, CLINICAL_RECORDS, REPORTS)


def topic_of(event: type[DomainEvent]) -> Topic:
    for topic in ALL_TOPICS:
        if event in topic.events:
            return topic
    raise LookupError(f"{event.__name__} is on no topic")
