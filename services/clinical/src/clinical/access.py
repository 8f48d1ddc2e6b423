"""Who may call clinical and which records they see, shared by every feature.

Staff and doctors read the records of cadres whose managing unit and tier fall inside one of their
READ grants, where a central-tier cadre's records need a grant with the central-tier health flag
(servicekit.scope.health_records_readable): without it they are answered as out of scope, 404. A HIS
client reads back only what its own facility posted, whatever the cadre's tier: a facility reading its
own submissions is not a board reading the cadre's history. It writes only as a facility.
"""

import uuid
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from clinical.tables import ClinicalRecord, PatientCadre
from contracts.api.common import Problem
from contracts.permissions import Permission
from contracts.scope import Principal
from servicekit.auth import permitted
from servicekit.errors import Forbidden, NotFound
from servicekit.scope import health_records_readable, readable

ClinicalReader = Annotated[Principal, Depends(permitted(Permission.CLINICAL_READ))]
HisWriter = Annotated[Principal, Depends(permitted(Permission.CLINICAL_WRITE))]
HisOwnReader = Annotated[Principal, Depends(permitted(Permission.CLINICAL_READ_OWN))]

HIS_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "not a facility's HIS client, or lacks clinical.write"},
    422: {"model": Problem, "description": "refused: `errors` names each field and the reason"},
}


def facility_of(principal: Principal) -> str:
    """The facility a HIS client acts for; a token without one (a person) may not post or read as a HIS."""
    if not principal.facility:
        raise Forbidden("only a facility's HIS client posts clinical records", code="not_a_facility")
    return principal.facility


def records_in_scope(principal: Principal) -> SelectOfScalar[ClinicalRecord]:
    """Every staff query of records starts here: the cadre's managing unit and tier inside a READ grant
    that opens health records (for the central tier, only a flagged one)."""
    in_scope = health_records_readable(principal, col(ClinicalRecord.managing_unit), col(ClinicalRecord.tier))
    return select(ClinicalRecord).where(in_scope)


def records_of_facility(principal: Principal) -> SelectOfScalar[ClinicalRecord]:
    """Every HIS read starts here: what its own facility wrote, nothing else."""
    return select(ClinicalRecord).where(col(ClinicalRecord.facility) == facility_of(principal))


def cadres_in_scope(principal: Principal) -> SelectOfScalar[uuid.UUID]:
    """The cadres of clinical's read model the caller may know of (the registry's READ scope): counted by
    the patients summary, which says nothing of anyone's health."""
    in_scope = readable(principal, col(PatientCadre.managing_unit), col(PatientCadre.tier))
    return select(col(PatientCadre.cadre_id)).where(in_scope)


def cadres_with_readable_health(principal: Principal) -> SelectOfScalar[uuid.UUID]:
    """The cadres whose health records (timeline, problem list) the caller may read."""
    in_scope = health_records_readable(principal, col(PatientCadre.managing_unit), col(PatientCadre.tier))
    return select(col(PatientCadre.cadre_id)).where(in_scope)


async def ensure_cadre_in_scope(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> None:
    """Before reading a cadre's health: 404 unless the caller may read it."""
    found = await session.scalar(cadres_with_readable_health(principal).where(col(PatientCadre.cadre_id) == cadre_id))
    if found is None:
        raise NotFound("no such cadre")  # also when the cadre exists outside the caller's scope, or needs the flag
