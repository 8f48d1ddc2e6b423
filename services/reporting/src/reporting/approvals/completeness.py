"""Completeness and timeliness of the boards one level below a unit, for a period (DHIS2's reporting rates):
the central board sees the provincial boards, a provincial board its commune boards.

Which communes run a board: reporting learns of no board as such, so a commune runs one when it manages
commune-tier cadres, or when its board has put a report in the chain. Before 1 July 2025 there were no commune
boards (district boards, which send no report up this chain), so a province's list is empty for earlier periods.
"""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.approvals import ApprovalState, BoardCompleteness, Completeness
from contracts.api.reporting import ReportKind
from contracts.enums import UnitLevel
from contracts.scope import Principal
from reporting.access import resolve_unit
from reporting.approvals import domain, queries
from reporting.approvals.service import submitted_on
from reporting.periods import check_period
from servicekit import clock
from servicekit.errors import NotFound, Refused, field_error
from servicekit.scope import NATION, sees_board


async def completeness(
    session: AsyncSession, principal: Principal, unit: str, kind: ReportKind, start: date, end: date, deadline_days: int
) -> Completeness:
    check_period(start, end)
    await resolve_unit(session, principal, unit)
    if not sees_board(principal, unit):  # a grant below the unit does not show the boards beside it
        raise NotFound(f"unknown unit {unit!r}", errors=[field_error(["query", "unit"], f"no unit {unit!r} in your scope")])
    if unit != NATION and not domain.is_provincial_board(unit):
        raise Refused(
            "completeness is asked of the nation (its provincial boards) or of a province (its commune boards)",
            errors=[field_error(["query", "unit"], "VN or a province's path (VN.nn)")],
            code="no_boards_below",
        )
    level = UnitLevel.PROVINCE if unit == NATION else UnitLevel.COMMUNE
    units = {u.path: u.name for u in (await session.scalars(queries.units_below(unit, level, end))).all()}
    approvals = {
        r.board_unit: r for r in (await session.scalars(queries.for_period(principal, list(units), kind, start, end))).all()
    }
    if level is UnitLevel.COMMUNE:
        running = set((await session.scalars(queries.communes_with_cadres(principal, list(units)))).all()) | set(approvals)
        units = {path: name for path, name in units.items() if path in running}
    due = domain.deadline(end, deadline_days)
    today = clock.today()
    boards = []
    for path, name in units.items():
        row = approvals.get(path)
        boards.append(
            BoardCompleteness(
                board_unit=path,
                name=name,
                state=ApprovalState(row.state) if row is not None else None,
                submitted_at=row.first_submitted_at if row is not None else None,
                timeliness=domain.timeliness(submitted_on(row), due, today),
            )
        )
    counts = {t: sum(1 for b in boards if b.timeliness == t) for t in ("on_time", "late", "missing", "not_yet_due")}
    return Completeness(unit=unit, kind=kind, period_start=start, period_end=end, deadline=due, boards=boards, **counts)
