"""Reporting queries: every one starts from the caller's scope."""

from datetime import UTC, datetime

from sqlalchemy import func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.api.reporting import CadreCountReport, CadreCountRow
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.scope import Principal
from reporting.tables import CadreFact
from servicekit.auth import scope_filter, within_unit


async def cadre_counts(session: AsyncSession, principal: Principal, unit: str) -> CadreCountReport:
    unit_column, tier, status = col(CadreFact.managing_unit), col(CadreFact.tier), col(CadreFact.status)
    in_scope = or_(
        scope_filter(principal, Action.READ, unit_column, tier),
        scope_filter(principal, Action.AGGREGATE, unit_column, tier),
    )
    rows = await session.execute(
        select(tier, status, func.count())
        .where(in_scope, within_unit(unit_column, unit))
        .group_by(tier, status)
        .order_by(tier, status)
    )
    counted = [CadreCountRow(tier=ManagementTier(t), status=CadreStatus(s), count=n) for t, s, n in rows]
    return CadreCountReport(unit=unit, total=sum(r.count for r in counted), rows=counted, as_of=datetime.now(UTC))
