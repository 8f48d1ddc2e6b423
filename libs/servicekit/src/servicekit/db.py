"""Async engine and sessions, the same code on SQLite (embedded default) and PostgreSQL (production).

SQLite admits one writer per database file. Every writing transaction begins with BEGIN IMMEDIATE on an
engine that calls SQLite inline on the loop's thread (servicekit.sqlite_inline), so a second writer polls
for the lock with growing sleeps on the loop (up to 50 ms each; SQLite's own busy handler, up to 100 ms,
made clinical 27 results/s with p99 6.7 s under 32 concurrent HIS posts). With `one_writer=True` the
writers of the process queue on an asyncio lock instead, taken before the transaction begins and
released after it ends: the write lock passes in first-come order with no sleep. Request transactions,
the outbox relay and the consumers all write through `Database.transaction`, so all of them queue; reads
never wait. On PostgreSQL nothing changes. A process must then never open a writing transaction inside
another (it would wait for itself).

`transaction()` is the unit of work's boundary, and what happens at it is here, not in global
session listeners: steps registered with `before_commit` run inside the transaction just before
it commits (a projection's buffered rows), callbacks registered with `after_commit` run once it has
committed (waking the outbox relay). Neither runs if the transaction rolls back.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from servicekit import sqlite_inline


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_file(url: str) -> str:
    """The database file of a SQLite URL, as SQLAlchemy reads it ("" or ":memory:" for a database in memory)."""
    return make_url(url).database or ""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (below); the driver's own implicit transactions are off.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    if not isinstance(dbapi_connection, sqlite_inline.InlineConnection):  # those wait on the loop, not in SQLite
        cursor.execute("PRAGMA busy_timeout=20000")  # a loaded machine: a consumer's transaction can take seconds
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


# Each SQLite connection keeps its last prepared statements (Python's sqlite3: 128 by default), and a multi-row
# INSERT (a consumer's claim of a batch, a projection's rows: SQLAlchemy's insertmanyvalues) is one text per row
# count. A statement of 500 rows holds 458 KiB; consumers' varying batch sizes filled the cache with a hundred
# such texts, 15-50 MiB per pooled connection: the embedded stack's growth outside Python's heap (issue 14).
# Pages of at most 100 rows (one text for every full page) and 64 cached statements bound it to about 6 MiB
# per connection; CPU per inserted row measured the same.
SQLITE_ROWS_PER_STATEMENT = 100
SQLITE_CACHED_STATEMENTS = 64


def make_engine(url: str, *, echo: bool = False, read_only: bool = False) -> AsyncEngine:
    """On SQLite a writing engine takes the write lock at BEGIN (a deferred transaction that upgrades later fails
    with "database is locked" when two writers meet) and calls SQLite inline (servicekit.sqlite_inline); a reading
    one (WAL) never waits for writers and keeps aiosqlite's thread."""
    if is_sqlite(url):
        path = sqlite_file(url)
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url if read_only else make_url(url).set(drivername=sqlite_inline.DRIVER),
            echo=echo,
            insertmanyvalues_page_size=SQLITE_ROWS_PER_STATEMENT,
            connect_args={"cached_statements": SQLITE_CACHED_STATEMENTS},
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_deferred if read_only else sqlite_inline.begin_immediate)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=20)
    ping_when_idle(engine)
    return engine


# A connection back in the pool a moment ago is alive. pool_pre_ping pinged it on every checkout anyway: under
# single HIS posts on PostgreSQL that was 4.6% of clinical's CPU and a round trip per transaction (issue 14).
# A connection idle longer than this may have been dropped (a server restart, a firewall's idle timeout) and is
# pinged before use; a dead one is replaced. One dropped while in use fails its transaction, and SQLAlchemy then
# recycles every connection of the pool, as before.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "servicekit.idle_since"


def ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection at checkout only when it has been idle for PING_AFTER_IDLE_SECONDS."""
    dialect = engine.sync_engine.dialect

    def mark_idle(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure to answer: the pool connects anew
            raise DisconnectionError("a pooled connection did not answer its ping") from exc

    event.listen(engine.sync_engine, "checkin", mark_idle)
    event.listen(engine.sync_engine, "checkout", ping_if_idle)


BEFORE_COMMIT = "servicekit.before_commit"
AFTER_COMMIT = "servicekit.after_commit"

CommitStep = Callable[[AsyncSession], Awaitable[None]]


def before_commit(session: AsyncSession, key: str, step: CommitStep) -> None:
    """Run `step(session)` just before this transaction commits; one step per key."""
    session.info.setdefault(BEFORE_COMMIT, {})[key] = step


def after_commit(session: AsyncSession, key: str, callback: Callable[[], None]) -> None:
    """Call `callback()` once this transaction has committed; one callback per key."""
    session.info.setdefault(AFTER_COMMIT, {})[key] = callback


async def _commit_steps(session: AsyncSession) -> None:
    while steps := session.info.pop(BEFORE_COMMIT, None):  # a step may register another
        for step in steps.values():
            await step(session)


def _committed(session: AsyncSession) -> None:
    for callback in session.info.pop(AFTER_COMMIT, {}).values():
        callback()


class Database:
    """One engine and its session factory; `transaction()` commits on success and rolls back on error."""

    def __init__(self, url: str, *, echo: bool = False, one_writer: bool = False) -> None:
        self.url = url
        self.writer = asyncio.Lock() if one_writer and is_sqlite(url) else None
        self.engine = make_engine(url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = make_engine(url, echo=echo, read_only=True) if is_sqlite(url) else self.engine
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The unit of work: commits on success (after its before-commit steps), rolls back on error."""
        async with self.writer or contextlib.nullcontext(), self.sessions() as session:
            async with session.begin():
                yield session
                await _commit_steps(session)
            _committed(session)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A transaction for reading only: on SQLite it does not queue behind writers (consumers, relay)."""
        async with self.read_sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
