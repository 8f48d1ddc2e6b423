"""The statements of the FHIR facade. Every read starts from the caller's records: a board's staff from
those in scope (clinical.access.records_in_scope), a HIS from its own facility's."""

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, func, or_
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from clinical.access import records_in_scope, records_of_facility
from clinical.fhir.search import Search
from clinical.tables import ClinicalRecord, ClinicalRecordVersion, Facility, PatientCadre
from contracts.permissions import Permission
from contracts.scope import Principal
from servicekit.fhir_search import date_condition


def readable_records(principal: Principal) -> SelectOfScalar[ClinicalRecord]:
    """A board's reader sees the records in its scope; a HIS without that right, what its facility posted."""
    if Permission.CLINICAL_READ in principal.permissions:
        return records_in_scope(principal)
    return records_of_facility(principal)


def record(principal: Principal, record_id: uuid.UUID, kinds: Collection[str]) -> SelectOfScalar[ClinicalRecord]:
    return readable_records(principal).where(col(ClinicalRecord.id) == record_id, col(ClinicalRecord.kind).in_(sorted(kinds)))


def version(record_id: uuid.UUID, number: int) -> SelectOfScalar[ClinicalRecordVersion]:
    return select(ClinicalRecordVersion).where(
        col(ClinicalRecordVersion.record_id) == record_id, col(ClinicalRecordVersion.version) == number
    )


def versions(record_id: uuid.UUID) -> SelectOfScalar[ClinicalRecordVersion]:
    """Newest first, as a history Bundle lists them."""
    return (
        select(ClinicalRecordVersion)
        .where(col(ClinicalRecordVersion.record_id) == record_id)
        .order_by(col(ClinicalRecordVersion.version).desc())
    )


def records_matching(
    principal: Principal, search: Search, kinds: Collection[str], facility: str | None
) -> SelectOfScalar[ClinicalRecord]:
    """The caller's records of these kinds the search's record-level parameters select, newest first.

    facility: the facility an identifier search names (its system); None when the search names none."""
    query = readable_records(principal).where(col(ClinicalRecord.kind).in_(sorted(kinds)))
    if search.ids:
        query = query.where(col(ClinicalRecord.id).in_(search.record_ids()))
    if search.patient_given:
        query = query.where(col(ClinicalRecord.cadre_id) == search.cadre_id)
    if search.record_id is not None:
        query = query.where(col(ClinicalRecord.id) == search.record_id)
    if search.identifier is not None:
        query = query.where(col(ClinicalRecord.external_id) == search.identifier[1])
        if facility is not None:
            query = query.where(col(ClinicalRecord.facility) == facility)
    for occurred in search.occurred:
        query = query.where(date_condition(col(ClinicalRecord.occurred_on), occurred, day_column=True))
    for updated in search.updated:
        query = query.where(date_condition(col(ClinicalRecord.updated_at), updated))
    return query.order_by(col(ClinicalRecord.occurred_on).desc(), col(ClinicalRecord.id))


def cadre_ids(values: Collection[uuid.UUID]) -> Select[uuid.UUID, str]:
    """(cadre id, CCCD) of the cadres named by the registry's id, for a `Patient/<id>` reference."""
    return core_select(col(PatientCadre.cadre_id), col(PatientCadre.national_id)).where(
        col(PatientCadre.cadre_id).in_(sorted(values))
    )


def cadres_by_bhyt(values: Collection[str]) -> Select[str | None, str]:
    return core_select(col(PatientCadre.bhyt_number), col(PatientCadre.national_id)).where(
        col(PatientCadre.bhyt_number).in_(sorted(values))
    )


def facilities(code: str | None) -> Select[Any]:
    """The facilities that posted records (what clinical knows of them is their code), by code."""
    query = core_select(col(ClinicalRecord.facility)).distinct()
    if code is not None:
        query = query.where(col(ClinicalRecord.facility) == code)
    return query.order_by(col(ClinicalRecord.facility))


def facilities_unregistered(code: str | None) -> Select[Any]:
    """The facilities known only from the records they posted, by code."""
    registered = core_select(col(Facility.code))
    return facilities(code).where(col(ClinicalRecord.facility).not_in(registered))


def registered_facilities(code: str | None, ids: Collection[str], folded_names: Collection[str]) -> SelectOfScalar[Facility]:
    """The registered facilities with this code (None: any), one of these ids (none: any) and a folded name
    holding one of these (none: any), by code."""
    query = select(Facility)
    if code is not None:
        query = query.where(col(Facility.code) == code)
    if ids:
        query = query.where(col(Facility.code).in_(sorted(ids)))
    if folded_names:
        query = query.where(or_(*(col(Facility.search_name).contains(n, autoescape=True) for n in folded_names)))
    return query.order_by(col(Facility.code))


def count_of(query: SelectOfScalar[ClinicalRecord]) -> Select[Any]:
    return core_select(func.count()).select_from(query.order_by(None).subquery())


def own_record(principal: Principal, record_id: uuid.UUID) -> SelectOfScalar[ClinicalRecord]:
    """A record the caller's facility posted (the only ones a HIS writes to)."""
    return records_of_facility(principal).where(col(ClinicalRecord.id) == record_id)
