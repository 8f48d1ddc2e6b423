"""Coverage: invited, attended, deferred, no-show and the rate, per plan, round, group, unit and facility,
now or as of any date; and which units have finished their round ("9 of 12 districts")."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.scheduling import CoverageDimension, CoverageReport, CoverageRow, InvitationStatus, UnitsFinished
from contracts.enums import CadreStatus, ManagementTier
from contracts.scope import Principal
from scheduling.access import aggregate_scope, plan_in_scope
from scheduling.domain import UnitProgress, child_unit, finished_units, rate
from scheduling.tables import ExamPlan, Invitation, InvitationChange, RoundGroup
from servicekit.auth import within_unit
from servicekit.sql import table_of

S = InvitationStatus
D = CoverageDimension


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


async def coverage(
    session: AsyncSession,
    principal: Principal,
    *,
    plan_id: uuid.UUID | None,
    year: int | None,
    unit: str | None,
    round_number: int | None,
    by: Sequence[CoverageDimension],
    as_of: date | None,
) -> CoverageReport:
    base_unit = unit
    inv = table_of(Invitation)
    if plan_id is not None:
        plan = await plan_in_scope(session, principal, plan_id)
        base_unit = unit or plan.board_unit
    today = datetime.now(UTC).date()
    when = as_of or today

    status: ColumnElement[str] = inv.c.status
    conditions: list[ColumnElement[bool]] = [inv.c.superseded_on.is_(None)]
    if as_of is not None:
        # the status as of the date: the latest change on or before it (an index lookup per invitation), else invited
        changes = table_of(InvitationChange)
        latest = (
            select(changes.c.status)
            .where(changes.c.invitation_id == inv.c.id, changes.c.effective_date <= as_of)
            .order_by(changes.c.effective_date.desc(), changes.c.id.desc())
            .limit(1)
            .correlate(inv)
            .scalar_subquery()
        )
        status = func.coalesce(latest, S.INVITED.value)
        conditions = [inv.c.issued_on <= as_of, or_(inv.c.superseded_on.is_(None), inv.c.superseded_on > as_of)]

    dim_columns = {
        D.ROUND: inv.c.round_number,
        D.GROUP: inv.c.group_id,
        D.FACILITY: inv.c.facility,
        D.TIER: inv.c.tier,
        D.STATUS: inv.c.cadre_status,
    }
    wanted = [d for d in dict.fromkeys(by) if d != D.UNIT]
    columns = [dim_columns[d] for d in wanted]
    rows_of = select(inv.c.managing_unit, *columns, status.label("status")).where(aggregate_scope(principal), *conditions)
    if plan_id is not None:
        rows_of = rows_of.where(inv.c.plan_id == plan_id)
    if unit:
        rows_of = rows_of.where(within_unit(inv.c.managing_unit, unit))
    if round_number is not None:
        rows_of = rows_of.where(inv.c.round_number == round_number)
    if year is not None:
        rows_of = rows_of.where(inv.c.plan_id.in_(select(col(ExamPlan.id)).where(col(ExamPlan.year) == year)))
    each = rows_of.subquery("each")  # the status (as of the date) is computed once per invitation, then counted
    grouped = [each.c[c.name] for c in columns]
    query = select(each.c.managing_unit, *grouped, each.c.status, func.count()).group_by(
        each.c.managing_unit, *grouped, each.c.status
    )

    group_labels: dict[str, str] = {}
    if D.GROUP in wanted:
        groups = await session.scalars(
            select(RoundGroup).where(col(RoundGroup.plan_id) == plan_id) if plan_id else select(RoundGroup)
        )
        for g in groups:
            group_labels[str(g.id)] = f"{g.tier}/{g.status or 'all'}" + (f"@{g.unit}" if g.unit else "") + f" -> {g.facility}"

    tallies: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    total = Tally()
    progress: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # unit -> [open, invited]
    for managing_unit, *values in await session.execute(query):
        *dims, row_status, count = values
        shown_unit = _rolled_up(managing_unit, base_unit)
        key_parts: list[Any] = []
        for d in by:
            if d == D.UNIT:
                key_parts.append(shown_unit)
            else:
                key_parts.append(dims[wanted.index(d)])
        tallies[tuple(key_parts)].counts[row_status] += count
        total.counts[row_status] += count
        if row_status != S.CANCELLED.value:
            progress[shown_unit][1] += count
            if row_status in (S.INVITED.value, S.CONFIRMED.value):
                progress[shown_unit][0] += count

    rows: list[CoverageRow] = []
    for key in sorted(tallies, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        dims_out: dict[str, Any] = {}
        for d, value in zip(by, key, strict=True):
            if d == D.ROUND:
                dims_out["round"] = value
            elif d == D.GROUP:
                dims_out["group"] = group_labels.get(str(value), str(value) if value else None)
            elif d == D.UNIT:
                dims_out["unit"] = value
            elif d == D.FACILITY:
                dims_out["facility"] = value or "home"
            elif d == D.TIER:
                dims_out["tier"] = ManagementTier(value)
            elif d == D.STATUS:
                dims_out["cadre_status"] = CadreStatus(value)
        rows.append(tallies[key].row(**dims_out))
    below = {u: UnitProgress(open=p[0], invited=p[1]) for u, p in progress.items() if u != base_unit}
    done, not_done = finished_units(below)
    return CoverageReport(
        plan_id=plan_id,
        unit=base_unit,
        as_of=when,
        by=list(by),
        rows=rows,
        total=total.row(),
        units_finished=UnitsFinished(
            finished=len(done), total=len(done) + len(not_done), finished_units=done, unfinished_units=not_done
        ),
    )


def _rolled_up(managing_unit: str, base_unit: str | None) -> str:
    if base_unit is None:
        parts = managing_unit.split(".")
        return ".".join(parts[:2])  # no base: provinces
    return child_unit(managing_unit, base_unit) or managing_unit
