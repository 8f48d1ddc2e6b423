"""Where every invitation query starts: the invitations of the cadres the caller's grants cover."""

import uuid
from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.scheduling import InvitationStatus
from contracts.enums import Action
from contracts.scope import Principal
from scheduling.access import Rows
from scheduling.domain import OPEN_STATUSES
from scheduling.tables import ExamRound, Invitation, InvitationChange, PlanFacility, RosterCadre
from servicekit.scope import scope_filter

S = InvitationStatus
OPEN = [s.value for s in OPEN_STATUSES]


def invitations_in_scope(principal: Principal, action: Action = Action.READ) -> SelectOfScalar[Invitation]:
    return select(Invitation).where(scope_filter(principal, action, col(Invitation.managing_unit), col(Invitation.tier)))


def filtered(
    principal: Principal,
    *,
    plan_id: uuid.UUID | None = None,
    round_number: int | None = None,
    status: InvitationStatus | None = None,
    unit: str | None = None,
    cadre_id: uuid.UUID | None = None,
    flagged: bool | None = None,
    undeliverable: bool = False,
    facility: str | None = None,
) -> SelectOfScalar[Invitation]:
    query = invitations_in_scope(principal)
    if plan_id is not None:
        query = query.where(col(Invitation.plan_id) == plan_id)
    if round_number is not None:
        query = query.where(col(Invitation.round_number) == round_number)
    if status is not None:
        query = query.where(col(Invitation.status) == status.value)
    if unit:
        query = query.where((col(Invitation.managing_unit) == unit) | col(Invitation.managing_unit).startswith(unit + "."))
    if cadre_id is not None:
        query = query.where(col(Invitation.cadre_id) == cadre_id)
    if facility is not None:
        query = query.where(col(Invitation.facility) == facility)
    if flagged is not None:
        query = query.where(col(Invitation.flag).is_not(None) if flagged else col(Invitation.flag).is_(None))
    if undeliverable:
        no_address = select(RosterCadre.cadre_id).where(
            (col(RosterCadre.residence_address).is_(None)) | (func.trim(col(RosterCadre.residence_address)) == "")
        )
        query = query.where(
            col(Invitation.cadre_id).in_(no_address), col(Invitation.status).in_(OPEN), col(Invitation.at_home).is_(False)
        )
    return query


def page_order(query: SelectOfScalar[Invitation]) -> SelectOfScalar[Invitation]:
    """How a list is cut into pages (each page is then shown by name: `with_names`)."""
    return query.order_by(col(Invitation.round_number), col(Invitation.managing_unit), col(Invitation.id))


def with_names(invitation_ids: Sequence[uuid.UUID]) -> Rows:
    """The invitations with their cadre's name and address, in the order boards read them."""
    return (
        sa_select(Invitation, col(RosterCadre.full_name), col(RosterCadre.residence_address))
        .where(col(Invitation.id).in_(invitation_ids))
        .outerjoin(RosterCadre, col(RosterCadre.cadre_id) == col(Invitation.cadre_id))
        .order_by(col(Invitation.round_number), col(Invitation.managing_unit), col(RosterCadre.full_name), col(Invitation.id))
    )


def for_letters(query: SelectOfScalar[Invitation]) -> Rows:
    """The invitations of `query` with their cadre, in the order letters are printed."""
    sub = query.subquery()
    return (
        sa_select(Invitation, RosterCadre)
        .join(sub, col(Invitation.id) == sub.c.id)
        .join(RosterCadre, col(RosterCadre.cadre_id) == col(Invitation.cadre_id))
        .order_by(col(Invitation.round_number), col(Invitation.managing_unit), col(RosterCadre.full_name), col(Invitation.id))
    )


def booked_per_day(round_id: uuid.UUID, facility: str) -> Rows:
    return (
        sa_select(col(Invitation.appointment_date), func.count())
        .where(
            col(Invitation.round_id) == round_id,
            col(Invitation.facility) == facility,
            col(Invitation.status) != S.CANCELLED.value,
        )
        .group_by(col(Invitation.appointment_date))
    )


def facility_of_plan(plan_id: uuid.UUID, code: str) -> SelectOfScalar[PlanFacility]:
    return select(PlanFacility).where(col(PlanFacility.plan_id) == plan_id, col(PlanFacility.code) == code)


def last_attempt(round_id: uuid.UUID, cadre_id: uuid.UUID) -> SelectOfScalar[int]:
    return select(func.max(Invitation.attempt)).where(col(Invitation.round_id) == round_id, col(Invitation.cadre_id) == cadre_id)


# ---- the statements of changes that arrive as events (no caller: the system acts on every board) ----


def current_of_cadre(cadre_id: uuid.UUID, statuses: Sequence[InvitationStatus]) -> SelectOfScalar[Invitation]:
    """A cadre's invitations in these statuses that no re-invitation has replaced."""
    return (
        select(Invitation)
        .where(
            col(Invitation.cadre_id) == cadre_id,
            col(Invitation.status).in_([s.value for s in statuses]),
            col(Invitation.superseded_on).is_(None),
        )
        .order_by(col(Invitation.appointment_date), col(Invitation.id))
    )


def current_of_cadres(cadre_ids: Sequence[uuid.UUID], statuses: Sequence[InvitationStatus]) -> SelectOfScalar[Invitation]:
    """`current_of_cadre` of many cadres at once (each cadre's in the same order)."""
    return (
        select(Invitation)
        .where(
            col(Invitation.cadre_id).in_(cadre_ids),
            col(Invitation.status).in_([s.value for s in statuses]),
            col(Invitation.superseded_on).is_(None),
        )
        .order_by(col(Invitation.appointment_date), col(Invitation.id))
    )


def attended_by_record(record_id: uuid.UUID) -> SelectOfScalar[Invitation]:
    return select(Invitation).where(col(Invitation.exam_record_id) == record_id)


def status_before_attended(invitation_id: uuid.UUID) -> SelectOfScalar[str]:
    return (
        select(InvitationChange.previous_status)
        .where(col(InvitationChange.invitation_id) == invitation_id, col(InvitationChange.status) == S.ATTENDED.value)
        .order_by(col(InvitationChange.id).desc())
        .limit(1)
    )


def rounds_by_id(round_ids: Sequence[uuid.UUID]) -> SelectOfScalar[ExamRound]:
    return select(ExamRound).where(col(ExamRound.id).in_(round_ids))
