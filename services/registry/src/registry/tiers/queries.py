"""The tiers feature's statements. Tier rules are reference data every caller with the units permission reads."""

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from registry.tables import TierRuleRecord


def rules(province: str | None = None) -> SelectOfScalar[TierRuleRecord]:
    """Every rule (national ones and every province's), or those that apply in one province."""
    query = select(TierRuleRecord).order_by(
        col(TierRuleRecord.province), col(TierRuleRecord.level), col(TierRuleRecord.tier), col(TierRuleRecord.valid_from)
    )
    if province is not None:
        query = query.where(col(TierRuleRecord.province).is_(None) | (col(TierRuleRecord.province) == province))
    return query
