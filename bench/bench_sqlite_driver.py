"""SQLite's writing transactions: aiosqlite's thread against calls made inline on the loop (servicekit.sqlite_inline).

The same small transaction (BEGIN IMMEDIATE, a read by key, an insert, a count, COMMIT) through AsyncSession,
TRANSACTIONS times per driver, the drivers interleaved ROUNDS times in one process. Figure: CPU time of the
process (every thread) per transaction, and the ratio inline / aiosqlite measured in the same run.
"""

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from servicekit.db import make_engine

TRANSACTIONS = int(os.environ.get("BENCH_SQLITE_TRANSACTIONS", "2000"))
ROUNDS = 3


def threaded_writer(url: str) -> AsyncEngine:
    """aiosqlite for writing, as the services had it: the same pragmas, BEGIN IMMEDIATE, SQLite's busy wait."""
    engine = create_async_engine(url)

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=20000", "foreign_keys=ON"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    event.listen(engine.sync_engine, "connect", pragmas)
    event.listen(engine.sync_engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


async def cpu_per_transaction(engine: AsyncEngine) -> float:
    sessions = async_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)"))
        start_id = int(await session.scalar(text("SELECT coalesce(max(id), 0) FROM t")) or 0) + 1
    started = time.process_time()
    for i in range(start_id, start_id + TRANSACTIONS):
        async with sessions() as session, session.begin():
            await session.execute(text("SELECT v FROM t WHERE id = :i"), {"i": i - 1})
            await session.execute(text("INSERT INTO t (id, v) VALUES (:i, :v)"), {"i": i, "v": "x" * 50})
            await session.execute(text("SELECT count(*) FROM t WHERE id > :i"), {"i": i - 5})
    return (time.process_time() - started) / TRANSACTIONS * 1e6


async def measure(directory: Path) -> dict[str, list[float]]:
    url = f"sqlite+aiosqlite:///{directory / 'driver.db'}"
    figures: dict[str, list[float]] = {"aiosqlite": [], "inline": []}
    for _ in range(ROUNDS):
        for name, engine in (("aiosqlite", threaded_writer(url)), ("inline", make_engine(url))):
            figures[name].append(await cpu_per_transaction(engine))
            await engine.dispose()
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-driver-") as scratch:
        figures = asyncio.run(measure(Path(scratch)))
    threaded, inline = statistics.median(figures["aiosqlite"]), statistics.median(figures["inline"])
    for name, values in figures.items():
        print(
            f"  {name}: CPU µs per transaction {', '.join(f'{v:.0f}' for v in values)} (median {statistics.median(values):.0f})"
        )
    print(f"  inline / aiosqlite: {inline / threaded:.2f} ({TRANSACTIONS} transactions x {ROUNDS} rounds, interleaved)")
