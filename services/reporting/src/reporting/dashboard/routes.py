"""The dashboard's API: its figures for a unit, the units it offers, the registry's latest counts.

The dashboard page itself (PAGE_DIR) is served by the app at /dashboard/ without a token: it holds no
data, signs in through the gateway and calls this API there with the caller's token.
"""

from importlib import resources
from pathlib import Path

from contracts.api.reporting import CadreCountReport, DashboardSummary, UnitBasis, UnitOption
from reporting.access import BasisQuery, ReportingReader, UnitQuery
from reporting.dashboard import service
from reporting.periods import AsOfQuery, EndQuery, StartQuery, period_of
from reporting.settings import ReportingRuntime
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import SessionDep

PAGE_DIR = Path(str(resources.files("reporting.dashboard") / "static"))

router = ServiceRouter(tags=["reporting"])


@router.get("/cadre-counts", response_model=CadreCountReport)
async def cadre_counts(unit: str, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime) -> CadreCountReport:
    return await service.cadre_counts(session, caller, unit, runtime.settings.min_cell_size)


@router.get("/units", response_model=list[UnitOption])
async def units(caller: ReportingReader, session: SessionDep) -> list[UnitOption]:
    """The units the caller may pick in the dashboard (nation, provinces, districts in its grants)."""
    return await service.units_for(session, caller)


@router.get("/summary", response_model=DashboardSummary)
async def summary(
    unit: UnitQuery,
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
    as_of: AsOfQuery = None,
    basis: BasisQuery = UnitBasis.AS_THEN,
) -> DashboardSummary:
    """The dashboard's figures for a unit and everything below it, over a period (counts as of its end)."""
    start, end = period_of(period_start, period_end, as_of)
    return await service.dashboard(session, caller, unit, start, end, runtime.settings.min_cell_size, basis)
