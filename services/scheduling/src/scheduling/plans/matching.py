"""The statement generation inserts from: every eligible cadre of the roster as of a date, matched to the rounds
and groups of a plan, as many rounds as the cadence rule gives, less what is already invited.

Set-based on purpose: a national plan matches some 450,000 cadres in one INSERT ... SELECT.
"""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import String, and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.sql import Select, Subquery
from sqlalchemy.sql.selectable import CTE

from scheduling.tables import CadenceRuleRow, ExamPlan, ExamRound, Invitation, RosterCadre, RosterHistory, RoundGroup
from servicekit.scope import within_unit
from servicekit.sql import table_of


def roster_as_of(as_of: date, cadre_ids: Sequence[uuid.UUID] | None) -> Subquery:
    """Each cadre's latest (unit, tier, status) with an effective date on or before `as_of` (where rn = 1)."""
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


def _eligible(plan: ExamPlan, as_of: date, cadre_ids: Sequence[uuid.UUID] | None) -> CTE:
    """The board's cadres as of the date that the plan's rule set examines at least once a year."""
    latest = roster_as_of(as_of, cadre_ids)
    rules = table_of(CadenceRuleRow)
    return (
        select(latest.c.cadre_id, latest.c.managing_unit, latest.c.tier, latest.c.status, rules.c.exams_per_year)
        .join(
            rules,
            and_(
                rules.c.rule_set_id == plan.rule_set_id,
                rules.c.tier == latest.c.tier,
                rules.c.status == latest.c.status,
            ),
        )
        .where(latest.c.rn == 1, rules.c.exams_per_year > 0, within_unit(latest.c.managing_unit, plan.board_unit))
        .cte("eligible")
    )


def _keyed(eligible: CTE, unit_lengths: set[int]) -> Subquery:
    """Groups name a unit (or none: the whole board). Matching a cadre's unit to a group's by prefix would compare
    every cadre with every group; instead each cadre gets one key per distinct length of the groups' units (its
    ancestor of that length) and the keys join the groups by equality, which the database can hash."""
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
    return union_all(*branches).subquery("keyed")


def _matched(plan: ExamPlan, keyed: Subquery, rounds_after: date | None) -> Subquery:
    """(cadre, round, group) pairs not yet invited; `specific` = 1 marks the most specific group of a round."""
    groups, rounds, invitations = table_of(RoundGroup), table_of(ExamRound), table_of(Invitation)
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
    return matched.subquery("matched")


def invitations_to_create(
    plan: ExamPlan, unit_lengths: set[int], as_of: date, cadre_ids: Sequence[uuid.UUID] | None, rounds_after: date | None
) -> Select[Any]:
    """The invitations to create: (cadre, round, group, facility) with the cadre's name for ordering."""
    m = _matched(plan, _keyed(_eligible(plan, as_of, cadre_ids), unit_lengths), rounds_after)
    ranked = (
        select(m, func.row_number().over(partition_by=m.c.cadre_id, order_by=m.c.number).label("k"))
        .where(m.c.specific == 1)
        .subquery("ranked")
    )
    invitations = table_of(Invitation)
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
