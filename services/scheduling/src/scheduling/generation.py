"""Plan generation in set-based SQL: every eligible cadre of the roster as of the plan date, matched to the
rounds and groups of the plan, given a slot at the group's facility within its daily capacity.

One INSERT ... SELECT writes all invitations; the unique (round, cadre, attempt) constraint makes a
second run add only what is missing. The same query, restricted to some cadres and to rounds not yet
started, invites a cadre who becomes eligible after the plan was generated.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select, Subquery
from sqlmodel import col

from contracts.api.scheduling import GenerationResult, InvitationStatus
from contracts.enums import ManagementTier
from contracts.events.scheduling import InvitationIssued
from scheduling.bulk_events import append_invitations_issued_pg
from scheduling.domain import round_slots
from scheduling.tables import (
    KIT,
    CadenceRuleRow,
    ExamPlan,
    ExamRound,
    Invitation,
    PlanFacility,
    RosterCadre,
    RosterHistory,
    RoundGroup,
)
from servicekit.auth import within_unit
from servicekit.errors import Refused, field_error
from servicekit.outbox import Outbox, RawEvent
from servicekit.sql import dialect_name, insert_ignoring_duplicates, table_of


@dataclass(frozen=True)
class Overflow:
    round_number: int
    facility: str
    needed: int
    free: int


def _add_days(session: AsyncSession, day: ColumnElement[date], days: ColumnElement[int]) -> ColumnElement[date]:
    if dialect_name(session) == "postgresql":
        return type_coerce(day + cast(days, Integer), Date)
    return type_coerce(func.date(day, literal("+") + cast(days, String) + literal(" days")), Date)


def _new_id(session: AsyncSession) -> ColumnElement[uuid.UUID]:
    if dialect_name(session) == "postgresql":
        return type_coerce(func.gen_random_uuid(), Uuid)
    return type_coerce(func.lower(func.hex(func.randomblob(16))), Uuid)  # SQLite stores a UUID as 32 hex digits


def _roster_as_of(as_of: date, cadre_ids: Sequence[uuid.UUID] | None) -> Subquery:
    """Each cadre's latest (unit, tier, status) with an effective date on or before `as_of`."""
    history = table_of(RosterHistory)
    latest = select(
        history.c.cadre_id,
        history.c.managing_unit,
        history.c.tier,
        history.c.status,
        func.row_number()
        .over(partition_by=history.c.cadre_id, order_by=(history.c.valid_from.desc(), history.c.id.desc()))
        .label("rn"),
    ).where(history.c.valid_from <= as_of)
    if cadre_ids is not None:
        latest = latest.where(history.c.cadre_id.in_(list(cadre_ids)))
    return latest.subquery("latest")


def _matches(
    plan: ExamPlan, unit_lengths: set[int], as_of: date, cadre_ids: Sequence[uuid.UUID] | None, rounds_after: date | None
) -> Select[Any]:
    """The invitations to create: (cadre, round, group, facility) with the cadre's name for ordering."""
    latest = _roster_as_of(as_of, cadre_ids)
    rules = table_of(CadenceRuleRow)
    groups, rounds, invitations = table_of(RoundGroup), table_of(ExamRound), table_of(Invitation)
    eligible = (
        select(latest.c.cadre_id, latest.c.managing_unit, latest.c.tier, latest.c.status, rules.c.exams_per_year)
        .join(
            rules,
            and_(
                rules.c.rule_set_id == plan.rule_set_id,
                rules.c.tier == latest.c.tier,
                rules.c.status == latest.c.status,
            ),
        )
        .where(
            latest.c.rn == 1,
            rules.c.exams_per_year > 0,
            within_unit(latest.c.managing_unit, plan.board_unit),
        )
        .cte("eligible")
    )
    # Groups name a unit (or none: the whole board). Matching a cadre's unit to a group's by prefix would compare
    # every cadre with every group; instead each cadre gets one key per distinct length of the groups' units (its
    # ancestor of that length) and the keys join the groups by equality, which the database can hash.
    branches = [
        select(eligible, func.substr(eligible.c.managing_unit, 1, length).label("unit_key")).where(
            or_(
                func.length(eligible.c.managing_unit) == length,
                func.substr(eligible.c.managing_unit, length + 1, 1) == ".",
            )
        )
        for length in sorted(unit_lengths)
    ]
    branches.append(select(eligible, literal("", String).label("unit_key")))
    keyed = union_all(*branches).subquery("keyed")
    group_unit_len = func.length(func.coalesce(groups.c.unit, ""))
    matched = (
        select(
            keyed.c.cadre_id,
            keyed.c.managing_unit,
            keyed.c.tier,
            keyed.c.status,
            keyed.c.exams_per_year,
            groups.c.id.label("group_id"),
            groups.c.facility,
            rounds.c.id.label("round_id"),
            rounds.c.number,
            rounds.c.starts_on,
            func.row_number()
            .over(
                partition_by=(keyed.c.cadre_id, rounds.c.id),
                order_by=(group_unit_len.desc(), case((groups.c.status.is_(None), 1), else_=0), groups.c.position),
            )
            .label("specific"),
        )
        .join(
            groups,
            and_(
                groups.c.plan_id == plan.id,
                groups.c.tier == keyed.c.tier,
                func.coalesce(groups.c.unit, "") == keyed.c.unit_key,
                or_(groups.c.status.is_(None), groups.c.status == keyed.c.status),
            ),
        )
        .join(rounds, rounds.c.id == groups.c.round_id)
        .where(
            ~exists().where(
                invitations.c.round_id == rounds.c.id,
                invitations.c.cadre_id == keyed.c.cadre_id,
                invitations.c.attempt == 0,
            )
        )
    )
    if rounds_after is not None:
        matched = matched.where(rounds.c.starts_on > rounds_after)
    m = matched.subquery("matched")
    ranked = (
        select(m, func.row_number().over(partition_by=m.c.cadre_id, order_by=m.c.number).label("k"))
        .where(m.c.specific == 1)
        .subquery("ranked")
    )
    already = (
        select(invitations.c.cadre_id, func.count().label("n"))
        .where(invitations.c.plan_id == plan.id, invitations.c.attempt == 0)
        .group_by(invitations.c.cadre_id)
        .subquery("already")
    )
    roster = table_of(RosterCadre)
    return (
        select(
            ranked.c.cadre_id,
            ranked.c.managing_unit,
            ranked.c.tier,
            ranked.c.status,
            ranked.c.group_id,
            ranked.c.facility,
            ranked.c.round_id,
            ranked.c.number,
            ranked.c.starts_on,
            func.coalesce(roster.c.full_name, "").label("full_name"),
        )
        .select_from(ranked)
        .outerjoin(already, already.c.cadre_id == ranked.c.cadre_id)
        .outerjoin(roster, roster.c.cadre_id == ranked.c.cadre_id)
        .where(ranked.c.k <= ranked.c.exams_per_year - func.coalesce(already.c.n, 0))
    )


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


async def _free_from(session: AsyncSession, plan: ExamPlan) -> dict[tuple[uuid.UUID, str], int]:
    """Per (round, facility): the first day index a new generation may book (the day after the last booking)."""
    invitations = table_of(Invitation)
    rounds = {r.id: r for r in await session.scalars(select(ExamRound).where(col(ExamRound.plan_id) == plan.id))}
    rows = await session.execute(
        select(invitations.c.round_id, invitations.c.facility, func.max(invitations.c.appointment_date))
        .where(invitations.c.plan_id == plan.id, invitations.c.facility.is_not(None))
        .group_by(invitations.c.round_id, invitations.c.facility)
    )
    offsets: dict[tuple[uuid.UUID, str], int] = {}
    for round_id, facility, last in rows:
        if isinstance(last, str):
            last = date.fromisoformat(last)
        offsets[(round_id, facility)] = (last - rounds[round_id].starts_on).days + 1
    return offsets


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
    invitations = table_of(Invitation)
    before = await session.scalar(
        select(func.count()).select_from(invitations).where(invitations.c.plan_id == plan.id, invitations.c.attempt == 0)
    )
    facilities = {f.code: f for f in await session.scalars(select(PlanFacility).where(col(PlanFacility.plan_id) == plan.id))}
    rounds = {r.id: r for r in await session.scalars(select(ExamRound).where(col(ExamRound.plan_id) == plan.id))}
    offsets = await _free_from(session, plan)
    groups = await session.scalars(select(RoundGroup).where(col(RoundGroup.plan_id) == plan.id))
    unit_lengths = {len(g.unit) for g in groups if g.unit}
    matches = _todo_table()
    await session.run_sync(lambda s: matches.drop(s.connection(), checkfirst=True))
    await session.run_sync(lambda s: matches.create(s.connection()))
    todo = _matches(plan, unit_lengths, as_of or plan.plan_date, cadre_ids, rounds_after)
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
        return await _invite(
            session, outbox, plan, matches, rounds, facilities, offsets, before or 0, skip_full=skip_full, whole=cadre_ids is None
        )
    finally:
        await session.run_sync(lambda s: matches.drop(s.connection(), checkfirst=True))


async def _invite(
    session: AsyncSession,
    outbox: Outbox,
    plan: ExamPlan,
    matches: Table,
    rounds: dict[uuid.UUID, ExamRound],
    facilities: dict[str, PlanFacility],
    offsets: dict[tuple[uuid.UUID, str], int],
    before: int,
    *,
    skip_full: bool,
    whole: bool,
) -> GenerationResult:
    now = datetime.now(UTC)
    invitations = table_of(Invitation)

    needed = await session.execute(
        select(matches.c.round_id, matches.c.facility, func.count()).group_by(matches.c.round_id, matches.c.facility)
    )
    overflows: list[Overflow] = []
    for round_id, facility_code, count in needed:
        round_ = rounds[round_id]
        capacity = facilities[facility_code].daily_capacity
        free = round_slots(round_.starts_on, round_.ends_on, capacity) - offsets.get((round_id, facility_code), 0) * capacity
        if count > free:
            overflows.append(Overflow(round_.number, facility_code, count, max(free, 0)))
    if overflows and not skip_full:
        raise Refused(
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
    full_pairs = {(o.round_number, o.facility) for o in overflows}

    daily: ColumnElement[int] = case(
        {code: f.daily_capacity for code, f in facilities.items()}, value=matches.c.facility, else_=1
    )
    offset_days: ColumnElement[int] = literal(0)
    if offsets:
        offset_days = case(
            *[
                (and_(matches.c.round_id == round_id, matches.c.facility == code), days)
                for (round_id, code), days in offsets.items()
            ],
            else_=0,
        )
    position = func.row_number().over(
        partition_by=(matches.c.round_id, matches.c.facility),
        order_by=(matches.c.managing_unit, matches.c.full_name, matches.c.cadre_id),
    )
    day_index = offset_days + (position - 1) / daily
    batch = uuid.uuid4()
    today = now.date()
    source = (
        select(
            _new_id(session).label("id"),
            literal(plan.id, Uuid).label("plan_id"),
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
    if full_pairs:
        source = source.where(
            ~or_(*[and_(matches.c.number == number, matches.c.facility == code) for number, code in full_pairs])
        )
    columns = [c.name for c in source.selected_columns]
    await session.execute(insert_ignoring_duplicates(session, invitations).from_select(columns, source))
    if dialect_name(session) == "postgresql":
        await session.execute(text("ANALYZE invitation"))  # fresh statistics: the next run plans its anti-join on them

    sample = InvitationIssued(
        invitation_id=plan.id,
        plan_id=plan.id,
        round_id=plan.id,
        cadre_id=plan.id,
        tier=ManagementTier.CENTRAL,
        managing_unit=plan.board_unit,
        facility="-",
        appointment_date=today,
    )
    if dialect_name(session) == "postgresql":
        await append_invitations_issued_pg(session, outbox, KIT, sample, batch)
    else:
        await outbox.append_payloads(session, sample, await _issued_rows(session, plan, batch))
    counts = await session.execute(
        select(invitations.c.round_number, func.count())
        .where(invitations.c.batch_id == batch)
        .group_by(invitations.c.round_number)
    )
    by_round = {number: count for number, count in counts}
    if whole:
        plan.generated_at = now
        session.add(plan)
    return GenerationResult(plan_id=plan.id, invited=sum(by_round.values()), already_invited=before, by_round=by_round)


async def _issued_rows(session: AsyncSession, plan: ExamPlan, batch: uuid.UUID) -> list[RawEvent]:
    invitations = table_of(Invitation)
    created = await session.execute(
        select(
            invitations.c.id,
            invitations.c.round_id,
            invitations.c.cadre_id,
            invitations.c.tier,
            invitations.c.managing_unit,
            invitations.c.facility,
            invitations.c.appointment_date,
        ).where(invitations.c.batch_id == batch)
    )
    plan_id = str(plan.id)
    return [
        RawEvent(
            str(inv_id),
            {
                "invitation_id": str(inv_id),
                "plan_id": plan_id,
                "round_id": str(round_id),
                "cadre_id": str(cadre_id),
                "tier": tier,
                "managing_unit": unit,
                "facility": facility,
                "appointment_date": appointment.isoformat() if isinstance(appointment, date) else str(appointment),
                "attempt": 0,
                "at_home": False,
                "previous_invitation_id": None,
            },
            unit,
            tier,
        )
        for inv_id, round_id, cadre_id, tier, unit, facility, appointment in created
    ]
