"""Use cases of the roster: how much of it a caller's grants cover."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.scheduling import RosterSummary
from contracts.scope import Principal
from scheduling.access import cadres_in_scope


async def summary(session: AsyncSession, principal: Principal) -> RosterSummary:
    total = await session.scalar(select(func.count()).select_from(cadres_in_scope(principal).subquery())) or 0
    return RosterSummary(cadres=total)
