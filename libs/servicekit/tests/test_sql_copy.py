"""servicekit.sql.copied: COPY on PostgreSQL inside the session's transaction (committed or rolled back with it);
nothing on SQLite, where the caller inserts the rows itself. On SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Uuid, func, insert, select, text
from sqlalchemy.dialects import postgresql

from servicekit.db import Database
from servicekit.sql import copied

METADATA = MetaData()
ROWS = Table(
    "copied_rows",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", Uuid, nullable=False),
    Column("name", String(50), nullable=False),
    Column("doc", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
COLUMNS = ("key", "name", "doc", "at")


class Boom(Exception):
    pass


async def copy_then_fail(db: Database, records: list[list[Any]], expected: bool) -> None:
    async with db.transaction() as session:
        await session.execute(text("SELECT 1"))
        assert await copied(session, ROWS, COLUMNS, records) is expected
        raise Boom  # the rows copied in this transaction go with it


async def test_copied_rows_commit_and_roll_back_with_the_transaction(database_url: str) -> None:
    db = Database(database_url)
    at = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    records = [[uuid.uuid4(), f"row {n}", f'{{"n": {n}, "tên": "Lâm Đồng"}}', at] for n in range(300)]
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))  # the transaction has begun on the connection
            done = await copied(session, ROWS, COLUMNS, records)
            if not done:  # as a caller would: the rows inserted
                rows = [
                    {"key": r[0], "name": r[1], "doc": {"n": n, "tên": "Lâm Đồng"}, "at": r[3]} for n, r in enumerate(records)
                ]
                await session.execute(insert(ROWS), rows)
        with pytest.raises(Boom):
            await copy_then_fail(db, records[:5], done)
        async with db.transaction() as session:
            count = await session.scalar(select(func.count()).select_from(ROWS))
            first = (await session.execute(select(ROWS).order_by(ROWS.c.id).limit(1))).one()
    finally:
        await db.dispose()
    assert done is database_url.startswith("postgresql")
    assert count == 300
    assert first.key == records[0][0]
    assert first.doc == {"n": 0, "tên": "Lâm Đồng"}
    assert first.at.replace(tzinfo=first.at.tzinfo or UTC) == at  # SQLite gives it back naive


async def test_no_copy_before_the_transaction_has_begun_on_the_connection(database_url: str) -> None:
    """COPY on a connection with no transaction open would commit on its own: the caller inserts instead."""
    db = Database(database_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        async with db.transaction() as session:
            assert await copied(session, ROWS, COLUMNS, [[uuid.uuid4(), "x", "{}", datetime.now(UTC)]]) is False
    finally:
        await db.dispose()
