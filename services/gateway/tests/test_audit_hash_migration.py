"""Migration 0006 on a gateway database in use, on SQLite and PostgreSQL: the audit records stay as they were,
their hash is no longer a unique key, and a journal entry or a place in the chain still cannot be written twice."""

import asyncio
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from servicekit import migrations
from servicekit.db import Database

RECORDS = sa.table(
    "audit_records",
    *(sa.column(name) for name in ("seq", "at", "actor", "actor_kind", "operation", "method", "path", "outcome")),
    *(sa.column(name) for name in ("status_code", "prev_hash", "hash", "entry_id")),
    sa.column("subjects", sa.JSON),
)


def record(seq: int, hash_: str, entry_id: str) -> dict[str, object]:
    return {
        "seq": seq, "at": datetime(2026, 11, 30, 3, 0, seq, tzinfo=UTC), "actor": "user:lamdong", "actor_kind": "staff",
        "operation": "registry.cadres.read", "method": "GET", "path": "/api/v1/registry/cadres/x", "outcome": "allowed",
        "status_code": 200, "prev_hash": "0" * 64, "hash": hash_, "entry_id": entry_id, "subjects": [],
    }  # fmt: skip


async def _append(url: str, *records: dict[str, object]) -> list[tuple[int, str]]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            if records:
                await session.execute(RECORDS.insert(), list(records))
        async with db.read() as session:
            return [tuple(row) for row in await session.execute(sa.select(RECORDS.c.seq, RECORDS.c.hash).order_by("seq"))]
    finally:
        await db.dispose()


def test_stored_records_stay_and_only_their_hash_loses_its_unique_index(database_url: str) -> None:
    migrations.upgrade("gateway", database_url, "0005")
    asyncio.run(_append(database_url, record(1, "a" * 64, "e1"), record(2, "b" * 64, "e2")))

    migrations.upgrade("gateway", database_url)
    migrations.check("gateway", database_url)

    assert asyncio.run(_append(database_url)) == [(1, "a" * 64), (2, "b" * 64)]
    assert asyncio.run(_append(database_url, record(3, "b" * 64, "e3")))[-1] == (3, "b" * 64)
    with pytest.raises(sa.exc.IntegrityError):  # a journal entry replayed twice
        asyncio.run(_append(database_url, record(4, "c" * 64, "e1")))
    with pytest.raises(sa.exc.IntegrityError):  # a second record at one place of the chain
        asyncio.run(_append(database_url, record(3, "d" * 64, "e4")))


def test_the_migration_can_be_undone(database_url: str) -> None:
    migrations.upgrade("gateway", database_url)
    asyncio.run(_append(database_url, record(1, "a" * 64, "e1")))

    command.downgrade(migrations.alembic_config("gateway", database_url), "0005")

    with pytest.raises(sa.exc.IntegrityError):
        asyncio.run(_append(database_url, record(2, "a" * 64, "e2")))
