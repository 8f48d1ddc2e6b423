"""A pooled PostgreSQL connection is pinged at checkout only after an idle spell (servicekit.db.ping_when_idle):
one the server dropped while idle is replaced before use; one back from a transaction a moment ago is used
as it is, with no round trip first."""

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from servicekit import db as db_module
from servicekit.db import Database
from servicekit.embedded import PostgresCluster
from servicekit.testing.plugin import fresh_postgres_url


@pytest.fixture
def pg_url(postgres_cluster: PostgresCluster) -> str:
    return fresh_postgres_url(postgres_cluster)


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[Database]:
    database = Database(pg_url)
    try:
        yield database
    finally:
        await database.dispose()


async def backend_of(database: Database) -> int:
    async with database.transaction() as session:
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


async def terminate(cluster: PostgresCluster, pid: int) -> None:
    connection = await asyncpg.connect(cluster.dsn())
    try:
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    pg: Database, postgres_cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = await backend_of(pg)
    await terminate(postgres_cluster, dropped)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout counts as after a spell

    assert await backend_of(pg) != dropped  # answered by a new connection, no error


async def test_a_connection_just_returned_is_used_without_a_ping(
    pg: Database, postgres_cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = await backend_of(pg)
    await terminate(postgres_cluster, dropped)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)

    # no ping found it dead: the transaction meets the dropped connection, and the pool starts afresh after it
    with pytest.raises(DBAPIError):
        await backend_of(pg)
    assert await backend_of(pg) != dropped
