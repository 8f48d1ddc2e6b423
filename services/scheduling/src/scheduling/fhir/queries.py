"""Which invitations a caller reaches as Appointments: a board through its grants (scheduling.invitations),
a facility's HIS those at its own facility for cadres its grants let it write for. Every statement here
starts from one of these two."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy import select as select_rows
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.scheduling import InvitationStatus
from contracts.enums import Action
from contracts.permissions import Permission
from contracts.scope import Principal
from scheduling.invitations.queries import invitations_in_scope
from scheduling.tables import Invitation, InvitationChange, RosterCadre
from servicekit.fhir_search import DateSearch, date_condition
from servicekit.scope import scope_filter


def facility_of(principal: Principal) -> str | None:
    """The facility a HIS client acts for ('' when its token names none: it reaches nothing); None for a
    board's staff, who reach invitations through their grants."""
    board = Permission.SCHEDULING_READ in principal.permissions or Permission.SCHEDULING_WRITE in principal.permissions
    return None if board else principal.facility or ""


def reachable(principal: Principal, action: Action) -> SelectOfScalar[Invitation]:
    facility = facility_of(principal)
    if facility is None:
        return invitations_in_scope(principal, action)
    return select(Invitation).where(
        col(Invitation.facility) == facility,
        col(Invitation.at_home).is_(False),
        scope_filter(principal, Action.WRITE, col(Invitation.managing_unit), col(Invitation.tier)),
    )


@dataclass(frozen=True)
class AppointmentSearch:
    """The filters of a search, all of which must hold (each list: any one of its values)."""

    ids: Sequence[uuid.UUID] | None = None
    patients: Sequence[uuid.UUID] | None = None
    facilities: Sequence[str] | None = None
    statuses: Sequence[InvitationStatus] | None = None
    dates: Sequence[DateSearch] = ()
    updated: Sequence[DateSearch] = ()


def searched(principal: Principal, search: AppointmentSearch) -> SelectOfScalar[Invitation]:
    query = reachable(principal, Action.READ)
    if search.ids is not None:
        query = query.where(col(Invitation.id).in_(search.ids))
    if search.patients is not None:
        query = query.where(col(Invitation.cadre_id).in_(search.patients))
    if search.facilities is not None:
        query = query.where(col(Invitation.facility).in_(search.facilities), col(Invitation.at_home).is_(False))
    if search.statuses is not None:
        query = query.where(col(Invitation.status).in_([s.value for s in search.statuses]))
    for day in search.dates:
        query = query.where(date_condition(col(Invitation.appointment_date), day, day_column=True))
    for moment in search.updated:
        query = query.where(date_condition(col(Invitation.updated_at), moment))
    return query


def by_id(principal: Principal, action: Action, invitation_id: uuid.UUID) -> SelectOfScalar[Invitation]:
    return reachable(principal, action).where(col(Invitation.id) == invitation_id)


def versions() -> ColumnElement[int]:
    """1 + the invitation's recorded status changes: its version, moved by every change of status."""
    changes = select_rows(func.count()).where(col(InvitationChange.invitation_id) == col(Invitation.id)).scalar_subquery()
    return 1 + changes


def shown(query: SelectOfScalar[Invitation]) -> Select[Invitation, str, int]:
    """The invitations of `query` with their cadre's name and their version."""
    sub = query.subquery()
    return (
        select_rows(Invitation, col(RosterCadre.full_name), versions())
        .join(sub, col(Invitation.id) == sub.c.id)
        .outerjoin(RosterCadre, col(RosterCadre.cadre_id) == col(Invitation.cadre_id))
        .order_by(col(Invitation.appointment_date), col(Invitation.id))
    )


def counted(query: SelectOfScalar[Invitation]) -> Select[int]:
    return select_rows(func.count()).select_from(query.subquery())
