"""Appointment use cases: read, search, and a status change through the invitations' own lifecycle
(scheduling.invitations.service.set_status: its history row and event), in the request's unit of work."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.scheduling import InvitationStatus
from contracts.enums import Action
from contracts.scope import Principal
from scheduling.domain import check_transition
from scheduling.fhir import queries
from scheduling.fhir.domain import Shown, appointment_of, target_of
from scheduling.invitations.service import set_status
from servicekit.errors import Refused
from servicekit.fhir import FhirError, validate, version_of_etag
from servicekit.outbox import Outbox
from servicekit.pagination import PageParams


@dataclass(frozen=True)
class Found:
    appointments: list[dict[str, Any]]
    total: int
    cadre_ids: list[uuid.UUID]


def _not_found(appointment_id: object) -> FhirError:
    return FhirError(404, "not-found", f"no Appointment {appointment_id!s}")


def _uuid(appointment_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(appointment_id)
    except ValueError:
        raise _not_found(appointment_id) from None


async def _shown(session: AsyncSession, principal: Principal, action: Action, appointment_id: str) -> Shown:
    rows = (await session.execute(queries.shown(queries.by_id(principal, action, _uuid(appointment_id))))).all()
    if not rows:
        raise _not_found(appointment_id)  # also outside the caller's reach: nothing leaked
    invitation, name, version = rows[0]
    return Shown(invitation, name, int(version))


async def read_appointment(session: AsyncSession, principal: Principal, appointment_id: str) -> tuple[dict[str, Any], uuid.UUID]:
    found = await _shown(session, principal, Action.READ, appointment_id)
    return appointment_of(found), found.invitation.cadre_id


async def search_appointments(
    session: AsyncSession, principal: Principal, search: queries.AppointmentSearch, page: PageParams
) -> Found:
    query = queries.searched(principal, search)
    total = await session.scalar(queries.counted(query)) or 0
    rows = (await session.execute(queries.shown(query).offset(page.offset).limit(page.limit))).all() if page.limit else []
    shown = [Shown(invitation, name, int(version)) for invitation, name, version in rows]
    return Found([appointment_of(s) for s in shown], total, [s.invitation.cadre_id for s in shown])


def _check_version(current: Shown, if_match: str | None) -> None:
    if if_match is not None and version_of_etag(if_match) != str(current.version):
        raise FhirError(412, "conflict", f"the Appointment is at version {current.version}, not {if_match}", "If-Match")


async def change_status(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    appointment_id: str,
    asked: object,
    if_match: str | None,
) -> tuple[dict[str, Any], uuid.UUID]:
    """The status asked for, recorded as the invitation status it means; asking again for the status the
    invitation already has changes nothing (a HIS retrying after a timeout gets the same answer)."""
    current = await _shown(session, principal, Action.WRITE, appointment_id)
    _check_version(current, if_match)
    invitation = current.invitation
    target = target_of(asked, facility=queries.facility_of(principal) is not None)
    if InvitationStatus(invitation.status) != target:
        try:
            check_transition(InvitationStatus(invitation.status), target, None)
        except Refused as refused:
            raise FhirError(422, "business-rule", refused.detail, "Appointment.status") from None
        await set_status(session, outbox, invitation, target, actor=principal.subject)
        await session.flush()
    return await read_appointment_for_write(session, principal, appointment_id)


async def read_appointment_for_write(
    session: AsyncSession, principal: Principal, appointment_id: str
) -> tuple[dict[str, Any], uuid.UUID]:
    found = await _shown(session, principal, Action.WRITE, appointment_id)
    return appointment_of(found), found.invitation.cadre_id


def status_of_put(appointment_id: str, body: Any) -> object:
    """A PUT carries the whole Appointment: it must be valid and be this one; only its status is taken."""
    validate("Appointment", body)
    if body.get("id") != appointment_id:
        raise FhirError(400, "invalid", f"Appointment.id {body.get('id')!r} is not {appointment_id!r}", "Appointment.id")
    return body.get("status")
