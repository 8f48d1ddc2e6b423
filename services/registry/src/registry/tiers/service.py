"""Tier-rule use cases (list, add a province's dated rule) and the check every write makes: may the board
a cadre is managed by (a unit or a managing body) manage the cadre's tier from the effective date on?"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.boards import TierRuleCreate, TierRulePublic
from contracts.enums import ManagementTier, UnitLevel
from contracts.scope import Principal
from registry.domain import TierRule, may_reorganise, province_of, tier_problem
from registry.tables import TierRuleRecord, Unit
from registry.tiers import queries
from servicekit.errors import Forbidden, Refused, field_error


def _rule(row: TierRuleRecord) -> TierRule:
    return TierRule(ManagementTier(row.tier), UnitLevel(row.level), row.province, row.valid_from, row.valid_to)


async def load_rules(session: AsyncSession, province: str | None = None) -> tuple[TierRule, ...]:
    """The rules in force anywhere (or in one province): a few dozen rows, read once per use case."""
    return tuple(_rule(row) for row in await session.scalars(queries.rules(province)))


async def list_rules(session: AsyncSession, province: str | None) -> list[TierRulePublic]:
    return [TierRulePublic.model_validate(r, from_attributes=True) for r in await session.scalars(queries.rules(province))]


async def add_rule(session: AsyncSession, principal: Principal, body: TierRuleCreate) -> TierRulePublic:
    """A province's own dated rule; it changes which tiers its boards manage, so it takes what reorganising the
    province takes (a write grant on it for every tier)."""
    if not may_reorganise(principal, body.province):
        raise Forbidden(f"a tier rule for {body.province} needs a write grant on it for every tier", code="out_of_scope")
    row = TierRuleRecord(**body.model_dump(), recorded_by=principal.subject)
    session.add(row)
    await session.flush()
    return TierRulePublic.model_validate(row, from_attributes=True)


def board_province(unit: Unit) -> str | None:
    """The province whose rules apply to a board: none for the nation's."""
    return None if unit.level == UnitLevel.NATION else province_of(unit.path)


def tier_refusal(rules: Sequence[TierRule], unit: Unit, tier: ManagementTier, start: date, end: date | None = None) -> str | None:
    """None, or why the board of `unit` (a unit or a managing body as registry.units.service.current_unit gives
    it) may not manage `tier` from `start` on (to `end`)."""
    return tier_problem(rules, UnitLevel(unit.level), tier, board_province(unit), start, end)


async def check_tier_on(
    session: AsyncSession, unit: Unit, tier: ManagementTier, start: date, end: date | None = None, loc: str = "tier"
) -> None:
    """422 naming `loc` unless the board of `unit` may manage `tier` on every day from `start` to `end`."""
    problem = tier_refusal(await load_rules(session), unit, tier, start, end)
    if problem is not None:
        raise Refused("tier not allowed for that board on that date", errors=[field_error(loc, problem)])
