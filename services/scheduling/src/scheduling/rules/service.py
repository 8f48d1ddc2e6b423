"""Use cases of cadence rules: a new version per change; plans keep the version they were made with."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.scheduling import CadenceRule, CadenceRuleSetCreate, CadenceRuleSetPublic
from contracts.enums import CadreStatus, ManagementTier
from contracts.scope import Principal
from scheduling.access import require_board_admin
from scheduling.domain import rule_errors
from scheduling.rules.queries import latest_version, rule_sets_seen, rules_of
from scheduling.tables import CadenceRuleRow, CadenceRuleSet
from servicekit.errors import NotFound, Refused


async def _public(session: AsyncSession, rule_set: CadenceRuleSet) -> CadenceRuleSetPublic:
    rows = await session.scalars(rules_of(rule_set))
    return CadenceRuleSetPublic(
        id=rule_set.id,
        board_unit=rule_set.board_unit,
        year=rule_set.year,
        version=rule_set.version,
        note=rule_set.note,
        created_at=rule_set.created_at,
        created_by=rule_set.created_by,
        rules=[
            CadenceRule(tier=ManagementTier(r.tier), status=CadreStatus(r.status), exams_per_year=r.exams_per_year) for r in rows
        ],
    )


async def create_rule_set(session: AsyncSession, principal: Principal, data: CadenceRuleSetCreate) -> CadenceRuleSetPublic:
    """A new version of a board's rules for a year; earlier versions (and the plans made with them) stay as they were."""
    require_board_admin(principal, data.board_unit)
    errors = rule_errors(data.rules)
    if errors:
        raise Refused("invalid cadence rules", errors=errors)
    latest = await session.scalar(latest_version(data.board_unit, data.year))
    rule_set = CadenceRuleSet(
        board_unit=data.board_unit, year=data.year, version=(latest or 0) + 1, note=data.note, created_by=principal.subject
    )
    session.add(rule_set)
    await session.flush()
    for rule in data.rules:
        session.add(
            CadenceRuleRow(
                rule_set_id=rule_set.id, tier=rule.tier.value, status=rule.status.value, exams_per_year=rule.exams_per_year
            )
        )
    await session.flush()
    return await _public(session, rule_set)


async def list_rule_sets(
    session: AsyncSession, principal: Principal, board_unit: str | None, year: int | None
) -> list[CadenceRuleSetPublic]:
    query = rule_sets_seen(principal).order_by(
        col(CadenceRuleSet.board_unit), col(CadenceRuleSet.year), col(CadenceRuleSet.version)
    )
    if board_unit:
        query = query.where(col(CadenceRuleSet.board_unit) == board_unit)
    if year:
        query = query.where(col(CadenceRuleSet.year) == year)
    return [await _public(session, rule_set) for rule_set in await session.scalars(query)]


async def rule_set_in_scope(session: AsyncSession, principal: Principal, rule_set_id: uuid.UUID) -> CadenceRuleSet | None:
    """The rule set if the caller sees its board (plans are made with one)."""
    found: CadenceRuleSet | None = await session.scalar(rule_sets_seen(principal).where(col(CadenceRuleSet.id) == rule_set_id))
    return found


async def get_rule_set(session: AsyncSession, principal: Principal, rule_set_id: uuid.UUID) -> CadenceRuleSetPublic:
    rule_set = await rule_set_in_scope(session, principal, rule_set_id)
    if rule_set is None:
        raise NotFound("no such rule set")
    return await _public(session, rule_set)
