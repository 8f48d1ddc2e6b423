"""The coverage report's route."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query

from contracts.api.scheduling import CoverageDimension, CoverageReport
from scheduling.access import Reader
from scheduling.coverage import service
from scheduling.coverage.queries import CoverageFilter
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["scheduling"])


@router.get("/coverage", response_model=CoverageReport)
async def get_coverage(
    caller: Reader,
    session: SessionDep,
    plan_id: uuid.UUID | None = None,
    year: int | None = None,
    unit: str | None = None,
    round: Annotated[int | None, Query(ge=1)] = None,
    by: Annotated[list[CoverageDimension] | None, Query()] = None,
    as_of: date | None = None,
) -> CoverageReport:
    """Invited, attended, deferred, no-show and the rate, grouped by the dimensions asked (e.g. by=round&by=unit)."""
    where = CoverageFilter(plan_id=plan_id, year=year, unit=unit, round_number=round, as_of=as_of)
    return await service.coverage(session, caller, where, by or [])
