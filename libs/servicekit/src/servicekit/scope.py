"""What a caller may see and change, defined once: as SQL statements for queries and as Python checks
for single rows and board-level writes. Every service's queries start from these.

A cadre row is in scope when one of the caller's grants allowing the action covers the cadre's
managing unit (the unit itself or below it) and includes the cadre's tier. A board's own records
(cadence rules, exam plans, clinic days, trips, issued reports) belong to the board of a unit, which
manages the tiers of that unit's level: writing them needs a grant covering the unit with a tier the
board manages, so the central board (central tier) cannot write a district board's plans.

Health records (clinical's person-level reads) are the one place where scope is narrower than READ: a
central-tier cadre's health records are readable only through a grant whose
`central_tier_health_records` flag is set (health_records_readable / may_read_health_records). Aggregates
are not person-level and keep the plain rules.
"""

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

from contracts.enums import PROVINCIAL_TIERS, Action, ManagementTier
from contracts.scope import Grant, Principal, unit_covers

NATION = "VN"


def escape_like(value: str) -> str:
    """A literal for LIKE with `escape='\\'`: its %, _ and \\ match only themselves."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def within_unit(unit_column: Any, unit_path: str) -> ColumnElement[bool]:
    """The unit itself and everything below it (materialised-path prefix test).

    The leading `LIKE 'path%'` is implied by the rest; it is there so that PostgreSQL can answer
    with one range scan of a `text_pattern_ops` index instead of an OR it cannot."""
    prefix = escape_like(unit_path)
    return and_(
        unit_column.like(prefix + "%", escape="\\"),
        or_(unit_column == unit_path, unit_column.like(prefix + ".%", escape="\\")),
    )


def scope_filter(principal: Principal, action: Action, unit_column: Any, tier_column: Any) -> ColumnElement[bool]:
    """Rows whose (managing unit, tier) fall inside a grant allowing `action`; nothing if no grant does."""
    clauses = [
        and_(within_unit(unit_column, grant.unit_path), tier_column.in_(sorted(grant.tiers)))
        for grant in principal.grants
        if action in grant.actions and grant.tiers
    ]
    return or_(*clauses) if clauses else false()


def readable(principal: Principal, unit_column: Any, tier_column: Any) -> ColumnElement[bool]:
    return scope_filter(principal, Action.READ, unit_column, tier_column)


def writable(principal: Principal, unit_column: Any, tier_column: Any) -> ColumnElement[bool]:
    return scope_filter(principal, Action.WRITE, unit_column, tier_column)


def may(principal: Principal, action: Action, unit_path: str, tier: ManagementTier) -> bool:
    """The Python twin of scope_filter, for one row."""
    return principal.may(action, unit_path, tier)


def health_record_tiers(grant: Grant) -> frozenset[ManagementTier]:
    """The tiers whose health records a READ grant opens: all its tiers, but the central tier only with the flag."""
    if grant.central_tier_health_records:
        return grant.tiers
    return grant.tiers - {ManagementTier.CENTRAL}


def health_records_readable(principal: Principal, unit_column: Any, tier_column: Any) -> ColumnElement[bool]:
    """Rows of person-level health records the caller may read: `readable`, except that a central-tier
    cadre's rows need a READ grant covering them with `central_tier_health_records` set."""
    clauses = [
        and_(within_unit(unit_column, grant.unit_path), tier_column.in_(sorted(tiers)))
        for grant in principal.grants
        if Action.READ in grant.actions and (tiers := health_record_tiers(grant))
    ]
    return or_(*clauses) if clauses else false()


def may_read_health_records(principal: Principal, unit_path: str, tier: ManagementTier) -> bool:
    """The Python twin of health_records_readable, for one cadre."""
    return any(
        Action.READ in grant.actions and tier in health_record_tiers(grant) and unit_covers(grant.unit_path, unit_path)
        for grant in principal.grants
    )


COMMUNE_CODE_LENGTH = 5  # GSO codes: province 2 digits, district 3, commune 5


def board_tiers(board_unit: str) -> frozenset[ManagementTier]:
    """The tiers that make a board of a unit's level (nation, province, below) what it is.

    `treatment_only` is left out: boards of every level care for such people, so a grant on it says
    nothing about which board's records one may write (a provincial board's grants include it)."""
    depth = board_unit.count(".")
    if board_unit == NATION or depth == 0:
        return frozenset({ManagementTier.CENTRAL})
    if depth == 1:
        return PROVINCIAL_TIERS
    if depth == 2 and len(board_unit.rsplit(".", 1)[1]) == COMMUNE_CODE_LENGTH:  # since 2025 communes sit under provinces
        return frozenset({ManagementTier.COMMUNE})
    return frozenset({ManagementTier.DISTRICT})  # a district (until 2025) and the communes below it


def sees_board(principal: Principal, board_unit: str, action: Action = Action.READ) -> bool:
    """A board's own records are visible to grants on the board's unit or above it."""
    return any(action in g.actions and unit_covers(g.unit_path, board_unit) for g in principal.grants)


def administers_board(principal: Principal, board_unit: str) -> bool:
    """Whether the caller may write a board's own records: unit and tier, for every role."""
    managed = board_tiers(board_unit)
    return any(Action.WRITE in g.actions and unit_covers(g.unit_path, board_unit) and g.tiers & managed for g in principal.grants)
