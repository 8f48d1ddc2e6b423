"""Plan generation in set-based SQL: the matched cadres (plans.matching) given a slot at their group's facility
within its daily capacity.

One INSERT ... SELECT writes all invitations; the unique (round, cadre, attempt) constraint makes a
second run add only what is missing. The same statement, restricted to some cadres and to rounds not yet
started, invites a cadre who becomes eligible after the plan was generated.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from contracts.api.scheduling import GenerationResult, InvitationStatus
from scheduling.domain import round_slots
from scheduling.plans.issued_events import append_issued
from scheduling.plans.matching import invitations_to_create
from scheduling.plans.queries import facilities_of, groups_of, last_booked_days, plan_invitations_count, rounds_of
from scheduling.tables import ExamPlan, ExamRound, Invitation, PlanFacility
from servicekit import clock
from servicekit.errors import Refused, field_error
from servicekit.outbox import Outbox
from servicekit.sql import dialect_name, insert_ignoring_duplicates, table_of

FreeFrom = dict[tuple[uuid.UUID, str], int]  # (round, facility) -> the first day index a new run may book


@dataclass(frozen=True)
class Overflow:
    round_number: int
    facility: str
    needed: int
    free: int


@dataclass(frozen=True)
class PlanParts:
    plan: ExamPlan
    rounds: dict[uuid.UUID, ExamRound]
    facilities: dict[str, PlanFacility]
    free_from: FreeFrom


def _add_days(session: AsyncSession, day: ColumnElement[date], days: ColumnElement[int]) -> ColumnElement[date]:
    if dialect_name(session) == "postgresql":
        return type_coerce(day + cast(days, Integer), Date)
    return type_coerce(func.date(day, literal("+") + cast(days, String) + literal(" days")), Date)


def _new_id(session: AsyncSession) -> ColumnElement[uuid.UUID]:
    if dialect_name(session) == "postgresql":
        return type_coerce(func.gen_random_uuid(), Uuid)
    return type_coerce(func.lower(func.hex(func.randomblob(16))), Uuid)  # SQLite stores a UUID as 32 hex digits


def _todo_table() -> Table:
    """A temporary table of the invitations to create: the matching query runs once, then is counted and inserted."""
    return Table(
        "scheduling_generation_todo",
        MetaData(),
        Column("cadre_id", Uuid),
        Column("managing_unit", String(100)),
        Column("tier", String(30)),
        Column("status", String(20)),
        Column("group_id", Uuid),
        Column("facility", String(40)),
        Column("round_id", Uuid),
        Column("number", Integer),
        Column("starts_on", Date),
        Column("full_name", String(200)),
        prefixes=["TEMPORARY"],
    )


async def _parts(session: AsyncSession, plan: ExamPlan) -> PlanParts:
    rounds = {r.id: r for r in await session.scalars(rounds_of(plan.id))}
    free_from: FreeFrom = {}
    for round_id, facility, last in await session.execute(last_booked_days(plan.id)):
        last_day = date.fromisoformat(last) if isinstance(last, str) else last
        free_from[(round_id, facility)] = (last_day - rounds[round_id].starts_on).days + 1
    facilities = {f.code: f for f in await session.scalars(facilities_of(plan.id))}
    return PlanParts(plan, rounds, facilities, free_from)


async def generate(
    session: AsyncSession,
    outbox: Outbox,
    plan: ExamPlan,
    *,
    cadre_ids: Sequence[uuid.UUID] | None = None,
    as_of: date | None = None,
    rounds_after: date | None = None,
    skip_full: bool = False,
) -> GenerationResult:
    """Invite every eligible cadre (or only `cadre_ids`) not yet invited; refuse if a facility's capacity is exceeded
    (or, with `skip_full`, leave out what does not fit: the path of a single cadre joining late)."""
    before = await session.scalar(plan_invitations_count(plan.id))
    parts = await _parts(session, plan)
    unit_lengths = {len(g.unit) for g in await session.scalars(groups_of(plan.id)) if g.unit}
    matches = _todo_table()
    await session.run_sync(lambda s: matches.drop(s.connection(), checkfirst=True))
    await session.run_sync(lambda s: matches.create(s.connection()))
    todo = invitations_to_create(plan, unit_lengths, as_of or plan.plan_date, cadre_ids, rounds_after)
    postgres = dialect_name(session) == "postgresql"
    if postgres:
        await session.execute(text("SET LOCAL work_mem = '128MB'"))  # the window sorts of a national plan fit in memory
        # Rows just written have no statistics yet: the planner would take the roster as a handful of rows and
        # compare every cadre with every group in nested loops. Hash joins are right at any size here.
        await session.execute(text("SET LOCAL enable_nestloop = off"))
    await session.execute(insert(matches).from_select([c.name for c in matches.columns], todo))
    if postgres:
        await session.execute(text("SET LOCAL enable_nestloop = on"))
        await session.execute(text(f"ANALYZE {matches.name}"))
    try:
        return await _invite(session, outbox, parts, matches, before or 0, skip_full=skip_full, whole=cadre_ids is None)
    finally:
        await session.run_sync(lambda s: matches.drop(s.connection(), checkfirst=True))


async def _overflows(session: AsyncSession, parts: PlanParts, matches: Table) -> list[Overflow]:
    needed = await session.execute(
        select(matches.c.round_id, matches.c.facility, func.count()).group_by(matches.c.round_id, matches.c.facility)
    )
    overflows: list[Overflow] = []
    for round_id, facility_code, count in needed:
        round_ = parts.rounds[round_id]
        capacity = parts.facilities[facility_code].daily_capacity
        booked_days = parts.free_from.get((round_id, facility_code), 0)
        free = round_slots(round_.starts_on, round_.ends_on, capacity) - booked_days * capacity
        if count > free:
            overflows.append(Overflow(round_.number, facility_code, count, max(free, 0)))
    return overflows


def _capacity_exceeded(overflows: list[Overflow]) -> Refused:
    return Refused(
        "capacity exceeded",
        errors=[
            field_error(
                ["rounds", o.round_number, "facility", o.facility],
                f"capacity exceeded: round {o.round_number} at {o.facility} needs {o.needed} slots, {o.free} are free",
            )
            for o in overflows
        ],
        code="capacity_exceeded",
    )


def _source(session: AsyncSession, parts: PlanParts, matches: Table, batch: uuid.UUID, now: datetime) -> Select[Any]:
    """The invitation rows: each group's cadres, by unit and name, fill its facility's days in order."""
    daily: ColumnElement[int] = case(
        {code: f.daily_capacity for code, f in parts.facilities.items()}, value=matches.c.facility, else_=1
    )
    offset_days: ColumnElement[int] = literal(0)
    if parts.free_from:
        offset_days = case(
            *[
                (and_(matches.c.round_id == round_id, matches.c.facility == code), days)
                for (round_id, code), days in parts.free_from.items()
            ],
            else_=0,
        )
    position = func.row_number().over(
        partition_by=(matches.c.round_id, matches.c.facility),
        order_by=(matches.c.managing_unit, matches.c.full_name, matches.c.cadre_id),
    )
    day_index = offset_days + (position - 1) / daily
    today = clock.vietnam_date(now)
    return (
        select(
            _new_id(session).label("id"),
            literal(parts.plan.id, Uuid).label("plan_id"),
            matches.c.round_id,
            matches.c.number.label("round_number"),
            matches.c.group_id,
            matches.c.cadre_id,
            matches.c.managing_unit,
            matches.c.tier,
            matches.c.status.label("cadre_status"),
            matches.c.facility,
            literal(False).label("at_home"),
            _add_days(session, matches.c.starts_on, day_index).label("appointment_date"),
            literal(InvitationStatus.INVITED.value).label("status"),
            literal(today, Date).label("status_since"),
            literal(today, Date).label("issued_on"),
            literal(0).label("attempt"),
            literal(batch, Uuid).label("batch_id"),
            literal(now).label("created_at"),
            literal(now).label("updated_at"),
        )
        .select_from(matches)
        .where(true())  # SQLite: INSERT ... SELECT ... ON CONFLICT needs a WHERE to parse
    )


async def _invite(
    session: AsyncSession, outbox: Outbox, parts: PlanParts, matches: Table, before: int, *, skip_full: bool, whole: bool
) -> GenerationResult:
    overflows = await _overflows(session, parts, matches)
    if overflows and not skip_full:
        raise _capacity_exceeded(overflows)
    now = clock.now()
    batch = uuid.uuid4()
    source = _source(session, parts, matches, batch, now)
    if overflows:
        full = [and_(matches.c.number == o.round_number, matches.c.facility == o.facility) for o in overflows]
        source = source.where(~or_(*full))
    invitations = table_of(Invitation)
    await session.execute(
        insert_ignoring_duplicates(session, invitations).from_select([c.name for c in source.selected_columns], source)
    )
    if dialect_name(session) == "postgresql":
        await session.execute(text("ANALYZE invitation"))  # fresh statistics: the next run plans its anti-join on them
    await append_issued(session, outbox, parts.plan, batch)
    counts = await session.execute(
        select(invitations.c.round_number, func.count())
        .where(invitations.c.batch_id == batch)
        .group_by(invitations.c.round_number)
    )
    by_round = {number: count for number, count in counts}
    if whole:
        parts.plan.generated_at = now
        session.add(parts.plan)
    return GenerationResult(plan_id=parts.plan.id, invited=sum(by_round.values()), already_invited=before, by_round=by_round)
