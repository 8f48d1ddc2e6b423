"""Use cases of a board's convalescence rules (who may go and how often, versioned) and trips ("6 of 14
registered"). Registrations: convalescence.registrations."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.care import ConvalescenceRuleCreate, ConvalescenceRulePublic, ConvalescenceTripCreate, ConvalescenceTripPublic
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.scheduling import ConvalescenceTripPublished
from contracts.scope import Principal
from scheduling.access import require_board_admin
from scheduling.convalescence.queries import (
    eligible_count,
    latest_rule_version,
    registered_count,
    rule_in_force,
    rules_seen,
    trips_seen,
)
from scheduling.domain import registered_summary
from scheduling.tables import ConvalescenceRule, ConvalescenceTrip
from servicekit.errors import Forbidden, NotFound, Refused, field_error
from servicekit.outbox import Outbox
from servicekit.scope import sees_board


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


async def create_rule(session: AsyncSession, principal: Principal, data: ConvalescenceRuleCreate) -> ConvalescenceRulePublic:
    """A new version of a board's eligibility rule; trips made under earlier versions keep theirs."""
    require_board_admin(principal, data.board_unit)
    latest = await session.scalar(latest_rule_version(data.board_unit))
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
    query = rules_seen(principal).order_by(col(ConvalescenceRule.board_unit), col(ConvalescenceRule.version))
    if board_unit:
        query = query.where(col(ConvalescenceRule.board_unit) == board_unit)
    return [_rule_public(r) for r in await session.scalars(query)]


async def trip_public(session: AsyncSession, trip: ConvalescenceTrip) -> ConvalescenceTripPublic:
    rule = await session.get(ConvalescenceRule, trip.rule_id)
    assert rule is not None
    registered = await session.scalar(registered_count(trip.id)) or 0
    eligible = await session.scalar(eligible_count(trip, rule)) or 0
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
    require_board_admin(principal, data.board_unit)
    errors = []
    if data.ends_on < data.starts_on:
        errors.append(field_error("ends_on", "the trip ends before it starts"))
    rule = await session.scalar(rule_in_force(data.board_unit, data.starts_on))
    if rule is None:
        errors.append(field_error("starts_on", f"no convalescence rule of {data.board_unit} is in force on this date"))
    if errors or rule is None:
        raise Refused("the trip breaks a rule", errors=errors)
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
            eligible=await session.scalar(eligible_count(trip, rule)) or 0,
        ),
        subject=str(trip.id),
        managing_unit=trip.board_unit,
    )
    return await trip_public(session, trip)


async def trip_in_scope(
    session: AsyncSession, principal: Principal, trip_id: uuid.UUID, action: Action = Action.READ, *, lock: bool = False
) -> ConvalescenceTrip:
    """A trip whose board the caller sees (404 otherwise), on which its grants allow `action` (403 otherwise):
    registering a cadre needs a write grant on the trip's board or above, not the board's own."""
    query = trips_seen(principal).where(col(ConvalescenceTrip.id) == trip_id)
    trip = await session.scalar(query.with_for_update() if lock else query)
    if trip is None:
        raise NotFound("no such trip")
    if action != Action.READ and not sees_board(principal, trip.board_unit, action):
        raise Forbidden("the trip's board is outside your write scope", code="out_of_scope")
    return trip


async def list_trips(
    session: AsyncSession, principal: Principal, board_unit: str | None, year: int | None
) -> list[ConvalescenceTripPublic]:
    query = trips_seen(principal).order_by(col(ConvalescenceTrip.starts_on), col(ConvalescenceTrip.id))
    if board_unit:
        query = query.where(col(ConvalescenceTrip.board_unit) == board_unit)
    trips = [t for t in await session.scalars(query) if year is None or t.starts_on.year == year]
    return [await trip_public(session, t) for t in trips]
