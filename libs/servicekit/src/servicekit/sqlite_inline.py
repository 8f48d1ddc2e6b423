"""SQLite driven from the event loop's own thread: the async engine of a service's writing transactions.

aiosqlite runs every call on a thread of its own and hands it back to the loop: two thread switches, a
future and a wake-up of the loop per statement. On this 2-core machine a transaction of three small
statements cost 2.2-3.1 ms of CPU that way and 0.51-0.71 ms with the same calls made inline, 0.21-0.23 of it
in every run (issue 14: `python -m bench sqlite_driver`). A statement on a local SQLite file takes tens of microseconds, so the
loop loses less by waiting for it than by the hand-off.

What inline calls must never do is wait for a lock while holding the loop: the lock's holder may be a
coroutine of the same loop. So a connection of this driver has a near-zero busy timeout, and the write
lock is taken at BEGIN IMMEDIATE by `begin_immediate`, which, when another writer (of this process or of
another one, such as a command-line tool) holds it, sleeps on the loop and tries again. Inside a WAL
transaction that holds the write lock no statement waits for another connection. Reading transactions
keep aiosqlite (`servicekit.db.make_engine`): a long report query on a thread does not stall the loop.
"""

import asyncio
import sqlite3
import time
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.util.concurrency import await_, in_greenlet

from servicekit.retry import Backoff

DRIVER = "sqlite+inline"
STATEMENT_BUSY_MS = 10  # a safety net only: in a WAL writing transaction no statement should wait at all
LOCK_WAIT_SECONDS = 20.0  # as the threaded engines' busy_timeout: a loaded machine can hold a lock for seconds
FIRST_RETRY_SECONDS = 0.001
LONGEST_RETRY_SECONDS = 0.05


async def _done() -> None:
    return None


def _pass_through_the_loop() -> None:
    """A Core statement run by an AsyncConnection must have awaited something (SQLAlchemy's check that the
    driver is async): one switch to the loop's greenlet and back, a few microseconds, no wait on the loop."""
    if in_greenlet():
        await_(_done())


class InlineCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> "InlineCursor":
        super().execute(sql, parameters)
        _pass_through_the_loop()
        return self

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> "InlineCursor":
        super().executemany(sql, seq_of_parameters)
        _pass_through_the_loop()
        return self

    async def _async_soft_close(self) -> None:
        """What SQLAlchemy's async layer awaits once a result is read: an inline cursor has nothing to hand back."""


class InlineConnection(sqlite3.Connection):
    def cursor(self, factory: Any = InlineCursor) -> Any:
        return super().cursor(factory)


class SQLiteDialectInline(SQLiteDialect_pysqlite):
    """Python's sqlite3, called where the async engine runs its sync code (a greenlet of the loop's thread)."""

    driver = "inline"
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool if cls._is_url_file_db(url) else pool.StaticPool

    def create_connect_args(self, url: URL) -> Any:
        args, options = super().create_connect_args(url)
        # a pooled connection may serve a later event loop on another thread (test clients); never two at once
        options.update(factory=InlineConnection, check_same_thread=False, timeout=STATEMENT_BUSY_MS / 1000)
        return args, options


registry.register("sqlite.inline", __name__, "SQLiteDialectInline")  # the URL names it sqlite+inline


def is_locked(exc: OperationalError) -> bool:
    return isinstance(exc.orig, sqlite3.OperationalError) and "locked" in str(exc.orig)


def begin_immediate(connection: Any) -> None:
    """BEGIN IMMEDIATE on an inline connection (an engine's "begin" listener): while another writer holds the
    lock, wait on the event loop, not in SQLite's busy handler, which would hold the loop and its holder with it."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    backoff: Backoff | None = None  # made on the first refusal only: BEGIN nearly always succeeds at once
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            backoff = backoff or Backoff(FIRST_RETRY_SECONDS, cap=LONGEST_RETRY_SECONDS)
            wait = backoff.failed()
            if not is_locked(exc) or time.monotonic() + wait > deadline:
                raise
        await_(asyncio.sleep(wait))
