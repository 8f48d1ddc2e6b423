"""The coverage report's route."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query

from contracts.api.reporting import UnitBasis
from contracts.api.scheduling import CoverageDimension, CoverageReport
from scheduling.access import Reader
from scheduling.coverage import service
from scheduling.coverage.queries import CoverageFilter
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import RoundFilter, YearFilter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["scheduling"])


@router.get("/coverage", response_model=CoverageReport)
async def get_coverage(
    caller: Reader,
    session: SessionDep,
    runtime: RuntimeDep,
    plan_id: uuid.UUID | None = None,
    year: YearFilter = None,
    unit: str | None = None,
    round: RoundFilter = None,
    by: Annotated[list[CoverageDimension] | None, Query()] = None,
    as_of: date | None = None,
    basis: Annotated[
        UnitBasis | None,
        Query(
            description="unset: each invitation under the unit that holds it now; as_then: under the cadre's unit "
            "on the appointment date, as the units stood then; today: that unit mapped onto today's units"
        ),
    ] = None,
) -> CoverageReport:
    """Invited, attended, deferred, no-show and the rate, grouped by the dimensions asked (e.g. by=round&by=unit);
    small counts suppressed for a caller who may only aggregate some tier of the unit."""
    where = CoverageFilter(plan_id=plan_id, year=year, unit=unit, round_number=round, as_of=as_of)
    return await service.coverage(session, caller, where, by or [], runtime.settings.min_cell_size, basis)
