"""Coverage per plan, round, group, unit and facility, now or as of any date; and which units have finished
their round ("9 of 12 districts"). A caller who may only aggregate some tier of the unit sees small counts
suppressed. Invitations count under the unit that holds them, or, with a basis, under the cadre's unit on the
appointment date (as the units stood then, or mapped onto today's)."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.reporting import UnitBasis
from contracts.api.scheduling import CoverageDimension, CoverageReport, CoverageRow, InvitationStatus, UnitsFinished
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.scope import Principal, unit_covers
from scheduling.coverage.queries import CoverageFilter, counts, groups, successions
from scheduling.coverage.suppression import suppressed_coverage
from scheduling.domain import UnitProgress, child_unit, finished_units, rate
from scheduling.plans.queries import plan_in_scope
from servicekit import clock
from servicekit.scope import NATION, may
from servicekit.successions import Succession, today_of
from servicekit.suppression import DEFAULT_MIN_CELL_SIZE, aggregate_only

S = InvitationStatus
D = CoverageDimension
OPEN = (S.INVITED.value, S.CONFIRMED.value)


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def row(self, **dims: Any) -> CoverageRow:
        c = self.counts
        invited = sum(n for s, n in c.items() if s != S.CANCELLED.value)
        return CoverageRow(
            **dims,
            invited=invited,
            confirmed=c[S.CONFIRMED.value],
            attended=c[S.ATTENDED.value],
            deferred=c[S.DEFERRED.value],
            no_show=c[S.NO_SHOW.value],
            open=c[S.INVITED.value] + c[S.CONFIRMED.value],
            cancelled=c[S.CANCELLED.value],
            rate=rate(c[S.ATTENDED.value], invited),
        )


@dataclass
class Tallies:
    by_key: dict[tuple[Any, ...], Tally] = field(default_factory=lambda: defaultdict(Tally))
    total: Tally = field(default_factory=Tally)
    progress: dict[str, UnitProgress] = field(default_factory=dict)

    def add(self, key: tuple[Any, ...], unit: str, status: str, count: int) -> None:
        self.by_key[key].counts[status] += count
        self.total.counts[status] += count
        if status != S.CANCELLED.value:
            seen = self.progress.get(unit, UnitProgress(open=0, invited=0))
            opened = count if status in OPEN else 0
            self.progress[unit] = UnitProgress(open=seen.open + opened, invited=seen.invited + count)


def _rolled_up(managing_unit: str, base_unit: str | None) -> str:
    if base_unit is None:
        return ".".join(managing_unit.split(".")[:2])  # no base: provinces
    return child_unit(managing_unit, base_unit) or managing_unit


def _dimensions(by: Sequence[CoverageDimension], key: tuple[Any, ...], group_labels: dict[str, str]) -> dict[str, Any]:
    """A row's dimensions, named as the report names them."""
    out: dict[str, Any] = {}
    for d, value in zip(by, key, strict=True):
        if d == D.ROUND:
            out["round"] = value
        elif d == D.GROUP:
            out["group"] = group_labels.get(str(value), str(value) if value else None)
        elif d == D.UNIT:
            out["unit"] = value
        elif d == D.FACILITY:
            out["facility"] = value or "home"
        elif d == D.TIER:
            out["tier"] = ManagementTier(value)
        elif d == D.STATUS:
            out["cadre_status"] = CadreStatus(value)
    return out


async def _group_labels(session: AsyncSession, where: CoverageFilter) -> dict[str, str]:
    return {
        str(g.id): f"{g.tier}/{g.status or 'all'}" + (f"@{g.unit}" if g.unit else "") + f" -> {g.facility}"
        for g in await session.scalars(groups(where.plan_id))
    }


def _constant(unit: str) -> Callable[[date], str | None]:
    return lambda _day: unit


async def _onto_today(
    session: AsyncSession, principal: Principal, where: CoverageFilter, rows: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """(unit today, *dimensions, status, count) of rows (unit then, tier, cadre's unit now, ...): each unit
    followed through the reorganisations since (at a split, to the part the cadre is in now), then the unit
    asked for and the caller's scope applied to today's unit: the board that manages it now sees its past."""
    found: dict[str, list[Succession]] = defaultdict(list)
    for s in await session.scalars(successions()):
        found[s.old_path].append(Succession(s.old_path, s.new_path, s.effective_on))
    kept: list[tuple[Any, ...]] = []
    for unit_then, tier, now, *rest in rows:
        unit = today_of(unit_then, found, _constant(now)) or unit_then
        if where.unit and not unit_covers(where.unit, unit):
            continue
        if may(principal, Action.READ, unit, ManagementTier(tier)) or may(
            principal, Action.AGGREGATE, unit, ManagementTier(tier)
        ):
            kept.append((unit, *rest))
    return kept


async def coverage(
    session: AsyncSession,
    principal: Principal,
    where: CoverageFilter,
    by: Sequence[CoverageDimension],
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    basis: UnitBasis | None = None,
) -> CoverageReport:
    base_unit = where.unit
    if where.plan_id is not None:
        plan = await plan_in_scope(session, principal, where.plan_id)
        base_unit = where.unit or plan.board_unit
    wanted = [d for d in dict.fromkeys(by) if d != D.UNIT]
    group_labels = await _group_labels(session, where) if D.GROUP in wanted else {}
    tallies = Tallies()
    rows: Sequence[Any] = list(await session.execute(counts(principal, wanted, where, basis)))
    if basis is UnitBasis.TODAY:
        rows = await _onto_today(session, principal, where, rows)
    for managing_unit, *values in rows:
        *dims, status, count = values
        shown_unit = _rolled_up(managing_unit, base_unit)
        key = tuple(shown_unit if d == D.UNIT else dims[wanted.index(d)] for d in by)
        tallies.add(key, shown_unit, status, count)
    rows = [
        tallies.by_key[key].row(**_dimensions(by, key, group_labels))
        for key in sorted(tallies.by_key, key=lambda k: tuple("" if v is None else str(v) for v in k))
    ]
    below = {u: p for u, p in tallies.progress.items() if u != base_unit}
    done, not_done = finished_units(below)
    report = CoverageReport(
        plan_id=where.plan_id,
        unit=base_unit,
        as_of=where.as_of or clock.today(),
        by=list(by),
        rows=rows,
        total=tallies.total.row(),
        units_finished=UnitsFinished(
            finished=len(done), total=len(done) + len(not_done), finished_units=done, unfinished_units=not_done
        ),
    )
    return suppressed_coverage(report, min_cell_size) if aggregate_only(principal, base_unit or NATION) else report
