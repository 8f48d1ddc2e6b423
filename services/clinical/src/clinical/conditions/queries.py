"""The statement of the problem list: a cadre's current records in the reader's scope."""

import uuid

from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from clinical.access import records_in_scope
from clinical.tables import ClinicalRecord
from contracts.api.clinical import RecordStatus
from contracts.scope import Principal


def current_records_of(principal: Principal, cadre_id: uuid.UUID) -> SelectOfScalar[ClinicalRecord]:
    """Withdrawn records were posted in error: their diagnoses are not the cadre's."""
    return records_in_scope(principal).where(
        col(ClinicalRecord.cadre_id) == cadre_id, col(ClinicalRecord.status) == RecordStatus.CURRENT.value
    )
