"""The statements of the records feature: one record in the reader's scope, a HIS's own, and versions."""

import uuid

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from clinical.access import records_in_scope, records_of_facility
from clinical.tables import ClinicalRecord, ClinicalRecordVersion
from contracts.scope import Principal


def record_in_scope(principal: Principal, record_id: uuid.UUID) -> SelectOfScalar[ClinicalRecord]:
    return records_in_scope(principal).where(col(ClinicalRecord.id) == record_id)


def own_record(principal: Principal, external_id: str) -> SelectOfScalar[ClinicalRecord]:
    return records_of_facility(principal).where(col(ClinicalRecord.external_id) == external_id)


def versions_of(record_id: uuid.UUID) -> SelectOfScalar[ClinicalRecordVersion]:
    """Every version of a record the caller was found to see, oldest first."""
    return (
        select(ClinicalRecordVersion)
        .where(col(ClinicalRecordVersion.record_id) == record_id)
        .order_by(col(ClinicalRecordVersion.version))
    )
