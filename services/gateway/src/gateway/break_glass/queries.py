"""The break-the-glass statements: a board sees the accesses opened on records in its read scope."""

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.scope import Principal
from gateway.tables import BreakGlassRow
from servicekit.scope import readable, within_unit


def on_board_records(board: Principal, unit: str | None = None) -> SelectOfScalar[BreakGlassRow]:
    """Accesses opened on records the board manages (optionally below one unit), newest first."""
    query = select(BreakGlassRow).where(readable(board, col(BreakGlassRow.managing_unit), col(BreakGlassRow.tier)))
    if unit:
        query = query.where(within_unit(col(BreakGlassRow.managing_unit), unit))
    return query.order_by(col(BreakGlassRow.granted_at).desc(), col(BreakGlassRow.id))


def on_board_record(board: Principal, glass_id: uuid.UUID) -> SelectOfScalar[BreakGlassRow]:
    return on_board_records(board).where(col(BreakGlassRow.id) == glass_id)


def opened_by(subject: str) -> SelectOfScalar[BreakGlassRow]:
    """A principal's own accesses, newest first."""
    return select(BreakGlassRow).where(col(BreakGlassRow.subject) == subject).order_by(col(BreakGlassRow.granted_at).desc())


def in_force_for(subjects: Collection[str], now: datetime) -> SelectOfScalar[BreakGlassRow]:
    """The accesses some subjects opened that have not expired, oldest first."""
    return (
        select(BreakGlassRow)
        .where(col(BreakGlassRow.subject).in_(sorted(subjects)), col(BreakGlassRow.expires_at) > now)
        .order_by(col(BreakGlassRow.granted_at), col(BreakGlassRow.id))
    )
