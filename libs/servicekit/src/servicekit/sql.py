"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel


def dialect_name(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def insert_ignoring_duplicates(session: AsyncSession, table: Table) -> Any:
    """INSERT that silently skips rows violating a unique constraint (ON CONFLICT DO NOTHING)."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


async def upsert(session: AsyncSession, table: Table, values: dict[str, Any], keys: Sequence[str]) -> None:
    updates = {k: v for k, v in values.items() if k not in keys}
    if dialect_name(session) == "postgresql":
        pg = postgresql.insert(table).values(**values)
        await session.execute(pg.on_conflict_do_update(index_elements=list(keys), set_=updates))
    else:
        lite = sqlite.insert(table).values(**values)
        await session.execute(lite.on_conflict_do_update(index_elements=list(keys), set_=updates))


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel table class (for inserts and upserts in bulk)."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table
