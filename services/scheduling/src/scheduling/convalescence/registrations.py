"""Use cases of registrations for convalescence trips: eligible cadres registered within the quota, each refusal
naming its reason; cancellations; who could still go."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.care import ConvalescenceRegistrationCreate, ConvalescenceRegistrationPublic, EligibleCadre, RegistrationStatus
from contracts.api.common import Page
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.scheduling import ConvalescenceRegistered, ConvalescenceRegistrationCancelled
from contracts.scope import Principal, unit_covers
from scheduling.access import cadre_in_scope
from scheduling.convalescence.queries import (
    eligible_not_registered,
    other_trip_starts,
    registered_count,
    registration_of,
    registrations_in_scope,
    registrations_with_cadres,
    upcoming_registrations_of,
)
from scheduling.convalescence.service import trip_in_scope
from scheduling.domain import ConvalescenceEligibility, convalescence_refusal
from scheduling.tables import ConvalescenceRegistration, ConvalescenceRule, ConvalescenceTrip, RosterCadre
from servicekit import clock
from servicekit.errors import Conflict, NotFound, Refused, field_error
from servicekit.outbox import Outbox
from servicekit.pagination import PageParams, paginate

REGISTERED = RegistrationStatus.REGISTERED.value
CANCELLED = RegistrationStatus.CANCELLED.value


def _eligibility(rule: ConvalescenceRule) -> ConvalescenceEligibility:
    return ConvalescenceEligibility(
        tiers=frozenset(ManagementTier(t) for t in rule.tiers),
        statuses=frozenset(CadreStatus(s) for s in rule.statuses),
        interval_years=rule.interval_years,
    )


def _public(registration: ConvalescenceRegistration, cadre: RosterCadre) -> ConvalescenceRegistrationPublic:
    return ConvalescenceRegistrationPublic(
        id=registration.id,
        trip_id=registration.trip_id,
        cadre_id=registration.cadre_id,
        full_name=cadre.full_name,
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
        status=RegistrationStatus(registration.status),
        registered_on=registration.registered_on,
        note=registration.note,
        cancelled_reason=registration.cancelled_reason,
    )


async def _refuse_unless_eligible(session: AsyncSession, trip: ConvalescenceTrip, cadre: RosterCadre) -> None:
    """By the trip's rule version: tier and status, the period since another trip, the quota."""
    rule = await session.get(ConvalescenceRule, trip.rule_id)
    assert rule is not None
    refusal = convalescence_refusal(
        _eligibility(rule),
        ManagementTier(cadre.tier),
        CadreStatus(cadre.status),
        trip.starts_on,
        list(await session.scalars(other_trip_starts(cadre.cadre_id, trip.id))),
        await session.scalar(registered_count(trip.id)) or 0,
        trip.quota,
    )
    if refusal is not None:
        code, message = refusal
        raise Refused(message, errors=[field_error("cadre_id", message)], code=code)


async def register(
    session: AsyncSession, outbox: Outbox, principal: Principal, trip_id: uuid.UUID, data: ConvalescenceRegistrationCreate
) -> ConvalescenceRegistrationPublic:
    trip = await trip_in_scope(session, principal, trip_id, Action.WRITE, lock=True)  # one registration at a time per trip
    cadre = await cadre_in_scope(session, principal, data.cadre_id, Action.WRITE)
    if not unit_covers(trip.board_unit, cadre.managing_unit):
        raise Refused(
            "not eligible: the cadre is not managed by the trip's board",
            errors=[field_error("cadre_id", f"not eligible: managed by {cadre.managing_unit}, not under {trip.board_unit}")],
            code="not_eligible",
        )
    existing = await session.scalar(registration_of(trip.id, cadre.cadre_id))
    if existing is not None and existing.status == REGISTERED:
        raise Conflict("the cadre is already registered for this trip", code="already_registered")
    await _refuse_unless_eligible(session, trip, cadre)
    on = clock.today()
    if existing is None:
        registration = ConvalescenceRegistration(
            trip_id=trip.id,
            trip_starts_on=trip.starts_on,
            cadre_id=cadre.cadre_id,
            status=REGISTERED,
            registered_on=on,
            note=data.note,
            created_by=principal.subject,
        )
    else:  # registered again after a cancellation
        registration = existing
        registration.status, registration.registered_on, registration.note = REGISTERED, on, data.note
        registration.cancelled_reason, registration.updated_at = None, clock.now()
    session.add(registration)
    await session.flush()
    await outbox.append(
        session,
        ConvalescenceRegistered(
            registration_id=registration.id,
            trip_id=trip.id,
            board_unit=trip.board_unit,
            cadre_id=cadre.cadre_id,
            tier=ManagementTier(cadre.tier),
            managing_unit=cadre.managing_unit,
            starts_on=trip.starts_on,
            registered_on=on,
        ),
        subject=str(registration.id),
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
        key=str(trip.id),
    )
    return _public(registration, cadre)


async def _cancel(
    session: AsyncSession, outbox: Outbox, registration: ConvalescenceRegistration, cadre: RosterCadre, reason: str
) -> None:
    registration.status = CANCELLED
    registration.cancelled_reason = reason
    registration.updated_at = clock.now()
    session.add(registration)
    await outbox.append(
        session,
        ConvalescenceRegistrationCancelled(
            registration_id=registration.id,
            trip_id=registration.trip_id,
            cadre_id=registration.cadre_id,
            reason=reason,
            cancelled_on=clock.today(),
        ),
        subject=str(registration.id),
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
        key=str(registration.trip_id),
    )


async def cancel_registration(
    session: AsyncSession, outbox: Outbox, principal: Principal, registration_id: uuid.UUID, reason: str
) -> ConvalescenceRegistrationPublic:
    registration = await session.scalar(
        registrations_in_scope(principal).where(col(ConvalescenceRegistration.id) == registration_id)
    )
    if registration is None:
        raise NotFound("no such registration")
    cadre = await cadre_in_scope(session, principal, registration.cadre_id, Action.WRITE)
    if registration.status != REGISTERED:
        raise Refused(
            "the registration is already cancelled", errors=[field_error("status", "already cancelled")], code="cancelled"
        )
    await _cancel(session, outbox, registration, cadre, reason)
    await session.flush()
    return _public(registration, cadre)


async def list_registrations(
    session: AsyncSession, principal: Principal, trip_id: uuid.UUID, include_cancelled: bool
) -> list[ConvalescenceRegistrationPublic]:
    trip = await trip_in_scope(session, principal, trip_id)
    query = registrations_with_cadres(principal, trip.id)
    if not include_cancelled:
        query = query.where(col(ConvalescenceRegistration.status) == REGISTERED)
    return [_public(r, c) for r, c in await session.execute(query)]


def _eligible_cadre(cadre: RosterCadre) -> EligibleCadre:
    return EligibleCadre(
        cadre_id=cadre.cadre_id,
        full_name=cadre.full_name,
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
        cadre_status=CadreStatus(cadre.status),
        position=cadre.position,
    )


async def eligible_not_yet_registered(
    session: AsyncSession, principal: Principal, trip_id: uuid.UUID, page: PageParams
) -> Page[EligibleCadre]:
    """Who could still be registered: eligible by the trip's rule, not gone within the period, not yet on this trip."""
    trip = await trip_in_scope(session, principal, trip_id)
    rule = await session.get(ConvalescenceRule, trip.rule_id)
    assert rule is not None
    return await paginate(session, eligible_not_registered(principal, trip, rule), page, lambda row: _eligible_cadre(row[0]))


# ---- from events ----


async def cancel_for_cadre(session: AsyncSession, outbox: Outbox, cadre_id: uuid.UUID, reason: str, on: date) -> None:
    """A deceased or removed cadre: registrations for trips not yet started are cancelled."""
    cadre = await session.get(RosterCadre, cadre_id)
    if cadre is None:
        return
    for registration in await session.scalars(upcoming_registrations_of(cadre_id, on)):
        await _cancel(session, outbox, registration, cadre, reason)
    await session.flush()
