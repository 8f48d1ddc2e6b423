"""Use cases of convalescence trips (nghỉ dưỡng): eligibility rules as versioned data, trips with a quota, and the
registration of eligible cadres ("6 of 14 registered"), each refusal naming its reason."""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, exists, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.scheduling import (
    ConvalescenceRegistrationCreate,
    ConvalescenceRegistrationPublic,
    ConvalescenceRuleCreate,
    ConvalescenceRulePublic,
    ConvalescenceTripCreate,
    ConvalescenceTripPublic,
    EligibleCadre,
    RegistrationStatus,
)
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.scheduling import (
    ConvalescenceRegistered,
    ConvalescenceRegistrationCancelled,
    ConvalescenceTripPublished,
)
from contracts.scope import Principal, unit_covers
from scheduling.access import cadre_in_scope, covers_board, roster_in_scope
from scheduling.domain import ConvalescenceEligibility, convalescence_refusal, convalescence_window, registered_summary
from scheduling.tables import ConvalescenceRegistration, ConvalescenceRule, ConvalescenceTrip, RosterCadre
from servicekit.auth import scope_filter, within_unit
from servicekit.errors import Conflict, Forbidden, NotFound, Refused, field_error
from servicekit.outbox import Outbox

REGISTERED = RegistrationStatus.REGISTERED.value
CANCELLED = RegistrationStatus.CANCELLED.value


def today() -> date:
    return datetime.now(UTC).date()


def _eligibility(rule: ConvalescenceRule) -> ConvalescenceEligibility:
    return ConvalescenceEligibility(
        tiers=frozenset(ManagementTier(t) for t in rule.tiers),
        statuses=frozenset(CadreStatus(s) for s in rule.statuses),
        interval_years=rule.interval_years,
    )


def _rule_public(rule: ConvalescenceRule) -> ConvalescenceRulePublic:
    return ConvalescenceRulePublic(
        id=rule.id,
        board_unit=rule.board_unit,
        version=rule.version,
        valid_from=rule.valid_from,
        tiers=[ManagementTier(t) for t in rule.tiers],
        statuses=[CadreStatus(s) for s in rule.statuses],
        interval_years=rule.interval_years,
        note=rule.note,
        created_at=rule.created_at,
        created_by=rule.created_by,
    )


# ---- rules ----


async def create_rule(session: AsyncSession, principal: Principal, data: ConvalescenceRuleCreate) -> ConvalescenceRulePublic:
    """A new version of a board's eligibility rule; trips made under earlier versions keep theirs."""
    if not covers_board(principal, data.board_unit, Action.WRITE):
        raise Forbidden("the board is outside your write scope", code="out_of_scope")
    latest = await session.scalar(
        select(func.max(ConvalescenceRule.version)).where(col(ConvalescenceRule.board_unit) == data.board_unit)
    )
    rule = ConvalescenceRule(
        board_unit=data.board_unit,
        version=(latest or 0) + 1,
        valid_from=data.valid_from,
        tiers=sorted({t.value for t in data.tiers}),
        statuses=sorted({s.value for s in data.statuses}),
        interval_years=data.interval_years,
        note=data.note,
        created_by=principal.subject,
    )
    session.add(rule)
    await session.flush()
    return _rule_public(rule)


async def list_rules(session: AsyncSession, principal: Principal, board_unit: str | None) -> list[ConvalescenceRulePublic]:
    query = select(ConvalescenceRule).order_by(col(ConvalescenceRule.board_unit), col(ConvalescenceRule.version))
    if board_unit:
        query = query.where(col(ConvalescenceRule.board_unit) == board_unit)
    return [_rule_public(r) for r in await session.scalars(query) if covers_board(principal, r.board_unit, Action.READ)]


async def rule_in_force(session: AsyncSession, board_unit: str, on: date) -> ConvalescenceRule | None:
    """The latest version whose validity has begun on that date."""
    return await session.scalar(
        select(ConvalescenceRule)
        .where(col(ConvalescenceRule.board_unit) == board_unit, col(ConvalescenceRule.valid_from) <= on)
        .order_by(col(ConvalescenceRule.valid_from).desc(), col(ConvalescenceRule.version).desc())
        .limit(1)
    )


# ---- trips and their figures ----


def _went_elsewhere(trip: ConvalescenceTrip, rule: ConvalescenceRule) -> ColumnElement[bool]:
    """The roster cadre holds a registration on another trip within the rule's period around this one."""
    lower, upper = convalescence_window(trip.starts_on, rule.interval_years)
    other = aliased(ConvalescenceRegistration, name="other")
    return exists().where(
        col(other.cadre_id) == col(RosterCadre.cadre_id),
        col(other.status) == REGISTERED,
        col(other.trip_id) != trip.id,
        col(other.trip_starts_on) > lower,
        col(other.trip_starts_on) < upper,
    )


def _eligible_now(trip: ConvalescenceTrip, rule: ConvalescenceRule) -> ColumnElement[bool]:
    return and_(
        within_unit(col(RosterCadre.managing_unit), trip.board_unit),
        col(RosterCadre.tier).in_(rule.tiers),
        col(RosterCadre.status).in_(rule.statuses),
        ~_went_elsewhere(trip, rule),
    )


def _registered_here(trip: ConvalescenceTrip) -> ColumnElement[bool]:
    return exists().where(
        col(ConvalescenceRegistration.cadre_id) == col(RosterCadre.cadre_id),
        col(ConvalescenceRegistration.trip_id) == trip.id,
        col(ConvalescenceRegistration.status) == REGISTERED,
    )


async def _registered_count(session: AsyncSession, trip_id: uuid.UUID) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(ConvalescenceRegistration)
            .where(col(ConvalescenceRegistration.trip_id) == trip_id, col(ConvalescenceRegistration.status) == REGISTERED)
        )
        or 0
    )


async def trip_public(session: AsyncSession, trip: ConvalescenceTrip) -> ConvalescenceTripPublic:
    rule = await session.get(ConvalescenceRule, trip.rule_id)
    assert rule is not None
    registered = await _registered_count(session, trip.id)
    # eligible now (narrowed by the board's unit first), plus the registered who no longer are (e.g. gone up a tier)
    eligible_now = await session.scalar(select(func.count()).select_from(RosterCadre).where(_eligible_now(trip, rule))) or 0
    registered_not_eligible = (
        await session.scalar(
            select(func.count())
            .select_from(RosterCadre)
            .join(ConvalescenceRegistration, col(ConvalescenceRegistration.cadre_id) == col(RosterCadre.cadre_id))
            .where(
                col(ConvalescenceRegistration.trip_id) == trip.id,
                col(ConvalescenceRegistration.status) == REGISTERED,
                ~_eligible_now(trip, rule),
            )
        )
        or 0
    )
    eligible = eligible_now + registered_not_eligible
    return ConvalescenceTripPublic(
        id=trip.id,
        board_unit=trip.board_unit,
        title=trip.title,
        destination=trip.destination,
        starts_on=trip.starts_on,
        ends_on=trip.ends_on,
        quota=trip.quota,
        rule_id=trip.rule_id,
        rule_version=trip.rule_version,
        registered=registered,
        eligible=eligible,
        summary=registered_summary(registered, eligible),
        created_at=trip.created_at,
    )


async def create_trip(
    session: AsyncSession, outbox: Outbox, principal: Principal, data: ConvalescenceTripCreate
) -> ConvalescenceTripPublic:
    if not covers_board(principal, data.board_unit, Action.WRITE):
        raise Forbidden("the board is outside your write scope", code="out_of_scope")
    errors = []
    if data.ends_on < data.starts_on:
        errors.append(field_error("ends_on", "the trip ends before it starts"))
    rule = await rule_in_force(session, data.board_unit, data.starts_on)
    if rule is None:
        errors.append(field_error("starts_on", f"no convalescence rule of {data.board_unit} is in force on this date"))
    if errors:
        raise Refused("the trip breaks a rule", errors=errors)
    assert rule is not None
    trip = ConvalescenceTrip(**data.model_dump(), rule_id=rule.id, rule_version=rule.version, created_by=principal.subject)
    session.add(trip)
    await session.flush()
    await outbox.append(
        session,
        ConvalescenceTripPublished(
            trip_id=trip.id,
            board_unit=trip.board_unit,
            title=trip.title,
            destination=trip.destination,
            starts_on=trip.starts_on,
            ends_on=trip.ends_on,
            quota=trip.quota,
            rule_version=trip.rule_version,
        ),
        subject=str(trip.id),
        managing_unit=trip.board_unit,
    )
    return await trip_public(session, trip)


async def trip_in_scope(
    session: AsyncSession, principal: Principal, trip_id: uuid.UUID, action: Action = Action.READ, *, lock: bool = False
) -> ConvalescenceTrip:
    query = select(ConvalescenceTrip).where(col(ConvalescenceTrip.id) == trip_id)
    trip = await session.scalar(query.with_for_update() if lock else query)
    if trip is None or not covers_board(principal, trip.board_unit, Action.READ):
        raise NotFound("no such trip")
    if action != Action.READ and not covers_board(principal, trip.board_unit, action):
        raise Forbidden("the trip's board is outside your write scope", code="out_of_scope")
    return trip


async def list_trips(
    session: AsyncSession, principal: Principal, board_unit: str | None, year: int | None
) -> list[ConvalescenceTripPublic]:
    query = select(ConvalescenceTrip).order_by(col(ConvalescenceTrip.starts_on), col(ConvalescenceTrip.id))
    if board_unit:
        query = query.where(col(ConvalescenceTrip.board_unit) == board_unit)
    trips = [t for t in await session.scalars(query) if covers_board(principal, t.board_unit, Action.READ)]
    if year is not None:
        trips = [t for t in trips if t.starts_on.year == year]
    return [await trip_public(session, t) for t in trips]


# ---- registrations ----


def _registrations_in_scope(principal: Principal) -> SelectOfScalar[ConvalescenceRegistration]:
    in_scope = roster_in_scope(principal).with_only_columns(col(RosterCadre.cadre_id))
    return select(ConvalescenceRegistration).where(col(ConvalescenceRegistration.cadre_id).in_(in_scope))


def _registration_public(registration: ConvalescenceRegistration, cadre: RosterCadre) -> ConvalescenceRegistrationPublic:
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
    existing = await session.scalar(
        select(ConvalescenceRegistration).where(
            col(ConvalescenceRegistration.trip_id) == trip.id, col(ConvalescenceRegistration.cadre_id) == cadre.cadre_id
        )
    )
    if existing is not None and existing.status == REGISTERED:
        raise Conflict("the cadre is already registered for this trip", code="already_registered")
    rule = await session.get(ConvalescenceRule, trip.rule_id)
    assert rule is not None
    others = await session.scalars(
        select(col(ConvalescenceRegistration.trip_starts_on)).where(
            col(ConvalescenceRegistration.cadre_id) == cadre.cadre_id,
            col(ConvalescenceRegistration.status) == REGISTERED,
            col(ConvalescenceRegistration.trip_id) != trip.id,
        )
    )
    refusal = convalescence_refusal(
        _eligibility(rule),
        ManagementTier(cadre.tier),
        CadreStatus(cadre.status),
        trip.starts_on,
        list(others),
        await _registered_count(session, trip.id),
        trip.quota,
    )
    if refusal is not None:
        code, message = refusal
        raise Refused(message, errors=[field_error("cadre_id", message)], code=code)
    on = today()
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
        registration.cancelled_reason, registration.updated_at = None, datetime.now(UTC)
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
    return _registration_public(registration, cadre)


async def _cancel(
    session: AsyncSession, outbox: Outbox, registration: ConvalescenceRegistration, cadre: RosterCadre, reason: str
) -> None:
    registration.status = CANCELLED
    registration.cancelled_reason = reason
    registration.updated_at = datetime.now(UTC)
    session.add(registration)
    await outbox.append(
        session,
        ConvalescenceRegistrationCancelled(
            registration_id=registration.id,
            trip_id=registration.trip_id,
            cadre_id=registration.cadre_id,
            reason=reason,
            cancelled_on=today(),
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
        _registrations_in_scope(principal).where(col(ConvalescenceRegistration.id) == registration_id)
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
    return _registration_public(registration, cadre)


async def list_registrations(
    session: AsyncSession, principal: Principal, trip_id: uuid.UUID, include_cancelled: bool
) -> list[ConvalescenceRegistrationPublic]:
    trip = await trip_in_scope(session, principal, trip_id)
    query = (
        select(ConvalescenceRegistration, RosterCadre)
        .join(RosterCadre, col(RosterCadre.cadre_id) == col(ConvalescenceRegistration.cadre_id))
        .where(
            col(ConvalescenceRegistration.trip_id) == trip.id,
            scope_filter(principal, Action.READ, col(RosterCadre.managing_unit), col(RosterCadre.tier)),
        )
        .order_by(col(RosterCadre.full_name), col(ConvalescenceRegistration.id))
    )
    if not include_cancelled:
        query = query.where(col(ConvalescenceRegistration.status) == REGISTERED)
    return [_registration_public(r, c) for r, c in await session.execute(query)]


async def eligible_not_registered(
    session: AsyncSession, principal: Principal, trip_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[EligibleCadre], int]:
    """Who could still be registered: eligible by the trip's rule, not gone within the period, not yet on this trip."""
    trip = await trip_in_scope(session, principal, trip_id)
    rule = await session.get(ConvalescenceRule, trip.rule_id)
    assert rule is not None
    query = roster_in_scope(principal).where(_eligible_now(trip, rule), ~_registered_here(trip))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(col(RosterCadre.full_name), col(RosterCadre.cadre_id)).offset(offset).limit(limit)
    )
    return [
        EligibleCadre(
            cadre_id=c.cadre_id,
            full_name=c.full_name,
            managing_unit=c.managing_unit,
            tier=ManagementTier(c.tier),
            cadre_status=CadreStatus(c.status),
            position=c.position,
        )
        for c in rows
    ], total


# ---- from events ----


async def cancel_for_cadre(session: AsyncSession, outbox: Outbox, cadre_id: uuid.UUID, reason: str, on: date) -> None:
    """A deceased or removed cadre: registrations for trips not yet started are cancelled."""
    cadre = await session.get(RosterCadre, cadre_id)
    if cadre is None:
        return
    for registration in await session.scalars(
        select(ConvalescenceRegistration).where(
            col(ConvalescenceRegistration.cadre_id) == cadre_id,
            col(ConvalescenceRegistration.status) == REGISTERED,
            col(ConvalescenceRegistration.trip_starts_on) >= on,
        )
    ):
        await _cancel(session, outbox, registration, cadre, reason)
    await session.flush()
