"""Where every cadence-rule query starts: the rule sets of the boards the caller sees."""

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.scope import Principal
from scheduling.access import boards_seen
from scheduling.tables import CadenceRuleRow, CadenceRuleSet


def rule_sets_seen(principal: Principal) -> SelectOfScalar[CadenceRuleSet]:
    return select(CadenceRuleSet).where(boards_seen(principal, col(CadenceRuleSet.board_unit)))


def rules_of(rule_set: CadenceRuleSet) -> SelectOfScalar[CadenceRuleRow]:
    return (
        select(CadenceRuleRow)
        .where(col(CadenceRuleRow.rule_set_id) == rule_set.id)
        .order_by(col(CadenceRuleRow.tier), col(CadenceRuleRow.status))
    )


def latest_version(board_unit: str, year: int) -> SelectOfScalar[int]:
    """Versions are counted per board and year (the board writing it has already been checked)."""
    return select(func.max(CadenceRuleSet.version)).where(
        col(CadenceRuleSet.board_unit) == board_unit, col(CadenceRuleSet.year) == year
    )
