"""The roll-up's API: the central board's national figures by province."""

from datetime import date
from typing import Annotated

from fastapi import Query

from contracts.api.reporting import NationalRollup, UnitBasis
from reporting.access import ReportingReader
from reporting.rollup import service
from reporting.settings import ReportingRuntime
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["reporting"])

MinCellQuery = Annotated[int | None, Query(ge=1, description="at least the configured size; larger suppresses more")]


@router.get("/aggregation/national", response_model=NationalRollup)
async def national(
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
    period_start: date,
    period_end: date,
    basis: UnitBasis = UnitBasis.AS_THEN,
    min_cell_size: MinCellQuery = None,
) -> NationalRollup:
    """The national roll-up by province: de-identified aggregates with small cells suppressed."""
    configured = runtime.settings.min_cell_size
    return await service.rollup(session, caller, period_start, period_end, basis, max(configured, min_cell_size or configured))
