"""The cadres feature's statements, each started from the caller's scope (registry.access) or, for counts,
from the READ-or-AGGREGATE scope that aggregates allow."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_
from sqlalchemy import select as select_rows  # tuples of columns; sqlmodel's select is for one entity
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.scope import Principal
from registry.access import cadres_in_scope, in_scope
from registry.domain import fold_name
from registry.tables import Cadre, CadreChange, CadrePeriod, Card, UnitSuccession
from servicekit.scope import escape_like, readable, scope_filter, within_unit


@dataclass(frozen=True)
class Search:
    q: str | None = None
    national_id: str | None = None
    card_number: str | None = None
    unit: str | None = None
    tier: ManagementTier | None = None
    status: CadreStatus | None = None


def holder_of_national_id(national_id: str) -> SelectOfScalar[uuid.UUID]:
    """Unscoped on purpose: a CCCD is unique across the registry, whoever may see its holder."""
    return select(col(Cadre.id)).where(col(Cadre.national_id) == national_id)


def holder_of_card(number: str) -> SelectOfScalar[uuid.UUID]:
    """The current card, or an older one of the same cadre (the cadre is then checked against the scope)."""
    return select(col(Card.cadre_id)).where(col(Card.number) == number)


def visible_cadre(principal: Principal, cadre_id: uuid.UUID) -> SelectOfScalar[Cadre]:
    return cadres_in_scope(principal).where(col(Cadre.id) == cadre_id)


def search_conditions(principal: Principal, search: Search, card_holder: uuid.UUID | None) -> list[ColumnElement[bool]]:
    """The search's filters but a name typed in `q`, which needs a count first (see name_starts / name_contains)."""
    conditions: list[ColumnElement[bool]] = [in_scope(principal)]
    if search.unit:
        conditions.append(within_unit(col(Cadre.managing_unit), search.unit))
    if search.tier:
        conditions.append(col(Cadre.tier) == search.tier.value)
    if search.status:
        conditions.append(col(Cadre.status) == search.status.value)
    if search.national_id:
        conditions.append(col(Cadre.national_id) == search.national_id)
    if search.card_number:
        conditions.append(col(Cadre.id) == card_holder if card_holder else false())
    folded = fold_name(search.q or "")
    if folded.isdigit():  # a CCCD typed in the search box
        conditions.append(col(Cadre.national_id) == folded.zfill(12))
    return conditions


def name_starts(folded: str) -> ColumnElement[bool]:
    """Names that start with the words typed, or whose given name does ('duc', 'duc nguyen'): two index ranges."""
    pattern = escape_like(folded)
    return or_(col(Cadre.name_folded).like(f"{pattern}%", escape="\\"), col(Cadre.name_key).like(f"{pattern}%", escape="\\"))


def name_contains(folded: str) -> ColumnElement[bool]:
    """Names containing the words anywhere ('van duc'): a trigram index on PostgreSQL."""
    return col(Cadre.name_folded).like(f"%{escape_like(folded)}%", escape="\\")


def count_where(conditions: Sequence[ColumnElement[bool]]) -> Select[int]:
    return select_rows(func.count()).select_from(Cadre).where(*conditions)


def page_ids(conditions: Sequence[ColumnElement[bool]], offset: int, limit: int) -> SelectOfScalar[uuid.UUID]:
    """Deferred join: the page's ids come from the index (scope columns, name, id) alone; then only those rows are read."""
    return select(col(Cadre.id)).where(*conditions).order_by(col(Cadre.name_folded), col(Cadre.id)).offset(offset).limit(limit)


def page_and_total(conditions: Sequence[ColumnElement[bool]], offset: int, limit: int) -> Select[uuid.UUID, int]:
    """A name search's page and its total from one pass over the matching rows (ids, each with the total).

    Materialized on purpose: without ORDER BY inside, the planner finds the matches through the prefix or trigram
    indexes. Given ORDER BY name and LIMIT it may instead walk the whole name index in order, filtering every row,
    in the hope of meeting 50 matches early; but matches of a name prefix sit together in that order, and
    'hoang minh cuong' took 2.3 s that way instead of 1 ms at 300,000 cadres ('%minh hai%': 1.2 s instead of
    30 ms). The count and the page then also share one pass over the rows instead of two."""
    matches = (
        select_rows(col(Cadre.id), col(Cadre.name_folded)).where(*conditions).cte("name_matches").prefix_with("MATERIALIZED")
    )
    total = select_rows(func.count()).select_from(matches).scalar_subquery()
    return select_rows(matches.c.id, total).order_by(matches.c.name_folded, matches.c.id).offset(offset).limit(limit)


def cadres_with_ids(ids: Sequence[uuid.UUID]) -> SelectOfScalar[Cadre]:
    """Only ids a scope-filtered statement (page_ids) returned."""
    return select(Cadre).where(col(Cadre.id).in_(ids))


def changes_of(cadre_id: uuid.UUID) -> SelectOfScalar[CadreChange]:
    """Only for a cadre already read through the scope."""
    return select(CadreChange).where(col(CadreChange.cadre_id) == cadre_id).order_by(col(CadreChange.id))


def duplicates_base(principal: Principal, unit: str | None) -> SelectOfScalar[Cadre]:
    base = cadres_in_scope(principal)
    return base.where(within_unit(col(Cadre.managing_unit), unit)) if unit else base


def duplicate_keys(base: SelectOfScalar[Cadre], limit: int) -> Select[str, date]:
    """(folded name, date of birth) shared by more than one cadre of `base`."""
    sub = base.subquery()
    return (
        select_rows(sub.c.name_folded, sub.c.date_of_birth)
        .group_by(sub.c.name_folded, sub.c.date_of_birth)
        .having(func.count() > 1)
        .order_by(sub.c.name_folded, sub.c.date_of_birth)
        .limit(limit)
    )


def duplicate_members(base: SelectOfScalar[Cadre], name_folded: str, born: date) -> SelectOfScalar[Cadre]:
    return base.where(col(Cadre.name_folded) == name_folded, col(Cadre.date_of_birth) == born).order_by(col(Cadre.created_at))


def counting_scope(principal: Principal, unit_column: Any, tier_column: Any) -> ColumnElement[bool]:
    """Counts are aggregates: a READ or an AGGREGATE grant covers them."""
    return or_(
        readable(principal, unit_column, tier_column),
        scope_filter(principal, Action.AGGREGATE, unit_column, tier_column),
    )


def counts_now(principal: Principal, unit: str) -> Select[str, str, str, int]:
    unit_column, tier, status = col(Cadre.managing_unit), col(Cadre.tier), col(Cadre.status)
    return (
        select_rows(unit_column, tier, status, func.count())
        .where(counting_scope(principal, unit_column, tier), within_unit(unit_column, unit))
        .group_by(unit_column, tier, status)
        .order_by(unit_column, tier, status)
    )


def held_on(on: date) -> tuple[ColumnElement[bool], ...]:
    """Periods that held on `on`."""
    return (col(CadrePeriod.valid_from) <= on, or_(col(CadrePeriod.valid_to).is_(None), col(CadrePeriod.valid_to) > on))


def counts_as_of(principal: Principal, unit: str, on: date) -> Select[str, str, str, int]:
    unit_column, tier, status = col(CadrePeriod.managing_unit), col(CadrePeriod.tier), col(CadrePeriod.status)
    return (
        select_rows(unit_column, tier, status, func.count())
        .where(*held_on(on), counting_scope(principal, unit_column, tier), within_unit(unit_column, unit))
        .group_by(unit_column, tier, status)
        .order_by(unit_column, tier, status)
    )


def all_counts_as_of(on: date) -> Select[str, str, str, int]:
    """Unscoped: the scope is applied in Python to the unit each row maps to today (see counts.mapped_counts)."""
    unit_column, tier, status = col(CadrePeriod.managing_unit), col(CadrePeriod.tier), col(CadrePeriod.status)
    return select_rows(unit_column, tier, status, func.count()).where(*held_on(on)).group_by(unit_column, tier, status)


def periods_as_of_in(on: date, units: Iterable[str]) -> Select[str, str, str, uuid.UUID]:
    """One row per cadre of units later split; scope applied in Python as in all_counts_as_of."""
    unit_column = col(CadrePeriod.managing_unit)
    return select_rows(unit_column, col(CadrePeriod.tier), col(CadrePeriod.status), col(CadrePeriod.cadre_id)).where(
        *held_on(on), unit_column.in_(sorted(units))
    )


def successions_after(on: date) -> SelectOfScalar[UnitSuccession]:
    return select(UnitSuccession).where(col(UnitSuccession.effective_date) > on).order_by(col(UnitSuccession.id))


def unit_of_cadre_on(cadre_id: uuid.UUID, day: date) -> SelectOfScalar[str]:
    return select(col(CadrePeriod.managing_unit)).where(col(CadrePeriod.cadre_id) == cadre_id, *held_on(day))
