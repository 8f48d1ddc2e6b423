"""How a stored record is shown to its readers: one record, a timeline, a HIS reading back its own."""

from clinical import domain
from clinical.tables import ClinicalRecord
from contracts.api.clinical import RecordPublic, RecordStatus
from contracts.codesystems import CodedValue
from contracts.enums import EncounterKind


def record_public(row: ClinicalRecord) -> RecordPublic:
    summary = domain.summarise(row.kind, row.body)
    return RecordPublic(
        id=row.id,
        kind=EncounterKind(row.kind),
        facility=row.facility,
        external_id=row.external_id,
        cadre_id=row.cadre_id,
        version=row.version,
        status=RecordStatus(row.status),
        occurred_on=row.occurred_on,
        ended_on=row.ended_on,
        managing_unit=row.managing_unit,
        recorded_at=row.recorded_at,
        updated_at=row.updated_at,
        classification=CodedValue(**summary.classification) if summary.classification else None,
        diagnoses=summary.diagnoses,
        needs_follow_up=summary.needs_follow_up,
        withdrawn_reason=row.withdrawn_reason,
        data=row.body,
    )
