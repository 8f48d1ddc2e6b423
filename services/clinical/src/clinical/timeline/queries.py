"""The statements of the timeline: one cadre's records newest first, and the cadres clinical can match."""

import uuid
from typing import Any

from sqlalchemy import Select, func
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from clinical.access import cadres_in_scope, records_in_scope
from clinical.tables import ClinicalRecord
from contracts.api.clinical import RecordStatus
from contracts.enums import EncounterKind
from contracts.scope import Principal


def timeline_of(
    principal: Principal, cadre_id: uuid.UUID, *, kind: EncounterKind | None, include_withdrawn: bool
) -> SelectOfScalar[ClinicalRecord]:
    query = records_in_scope(principal).where(col(ClinicalRecord.cadre_id) == cadre_id)
    if kind is not None:
        query = query.where(col(ClinicalRecord.kind) == kind.value)
    if not include_withdrawn:
        query = query.where(col(ClinicalRecord.status) == RecordStatus.CURRENT.value)
    return query.order_by(col(ClinicalRecord.occurred_on).desc(), col(ClinicalRecord.recorded_at).desc(), col(ClinicalRecord.id))


def cadres_count(principal: Principal) -> Select[Any]:
    return select(func.count()).select_from(cadres_in_scope(principal).subquery())
