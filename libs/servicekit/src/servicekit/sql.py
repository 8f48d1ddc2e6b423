"""Small SQL helpers that differ between SQLite and PostgreSQL."""

import functools
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel


def dialect_name(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def insert_ignoring_duplicates(session: AsyncSession, table: Table) -> Any:
    """INSERT that silently skips rows violating a unique constraint (ON CONFLICT DO NOTHING). One statement
    object per table and dialect: statements are immutable, and a hot path (a consumer's claim of every
    batch) then neither builds it again nor computes its cache key from scratch."""
    return _ignoring_duplicates(dialect_name(session), table)


@functools.cache
def _ignoring_duplicates(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


async def upsert(session: AsyncSession, table: Table, values: dict[str, Any], keys: Sequence[str]) -> None:
    """INSERT .. ON CONFLICT (keys) DO UPDATE the other columns. The statement is built once per table, key and
    columns, the values are bound: a projection upserting per event neither builds it nor computes its cache key
    again (that was half the CPU of each upsert)."""
    await session.execute(_upsert_statement(dialect_name(session), table, tuple(keys), tuple(values)), values)


async def upsert_many(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """`upsert` of many rows of the same columns in one executemany statement; a key given twice keeps its last row
    (one statement may not update a row twice)."""
    unique = list({tuple(row[k] for k in keys): row for row in rows}.values())
    if not unique:
        return
    await session.execute(_upsert_statement(dialect_name(session), table, tuple(keys), tuple(unique[0])), unique)


@functools.cache
def _upsert_statement(dialect: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    updates = {name: statement.excluded[name] for name in columns if name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=updates)


async def copied(session: AsyncSession, table: Table, columns: Sequence[str], records: Sequence[Sequence[Any]]) -> bool:
    """On PostgreSQL, `records` (values in the order of `columns`) written with COPY inside the session's
    transaction, so they commit or roll back with the rest of it; False where that cannot be (SQLite, or no
    transaction begun on the connection yet, when COPY would commit on its own): the caller inserts them.

    Why: a bulk's thousand rows by executemany are a thousand INSERTs for PostgreSQL to bind and execute, and
    as many parameter sets for SQLAlchemy to process; COPY streams them in one command, in binary. JSON and
    JSONB columns take the JSON text (the codecs SQLAlchemy's asyncpg dialect sets on its connections).
    """
    if dialect_name(session) != "postgresql":
        return False
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None or not driver.is_in_transaction():
        return False
    await driver.copy_records_to_table(table.name, records=records, columns=list(columns), schema_name=table.schema)
    return True


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel table class (for inserts and upserts in bulk)."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


IN_LIST = 1000  # values per IN list: well inside every database's bound on bound parameters


def chunked(items: Sequence[Any], size: int = IN_LIST) -> Iterator[Sequence[Any]]:
    """`items` in slices of at most `size`, for IN lists and executemany runs of bounded length."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
