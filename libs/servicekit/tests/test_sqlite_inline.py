"""SQLite's writing engine calls the driver on the loop's thread (servicekit.sqlite_inline): a writer that finds
the write lock taken waits on the loop, so the holder, a coroutine of the same loop, goes on and commits."""

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from event_flow_support import KIT, metadata
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError

from servicekit import sqlite_inline
from servicekit.db import Database


@pytest.fixture
async def two_writers(tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    """Two engines on one file and no lock of the process between them: as two processes would be."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}"
    first, second = Database(url), Database(url)
    async with first.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield first, second
    await first.dispose()
    await second.dispose()


def a_relay(name: str) -> dict[str, object]:
    return {"relay": name, "cluster_id": "c", "changed_at": func.now()}


async def test_writes_go_inline_and_reads_through_a_thread(two_writers: tuple[Database, Database]) -> None:
    db, _ = two_writers
    assert db.engine.dialect.driver == "inline"
    assert db.read_engine.dialect.driver == "aiosqlite"  # a long report query must not hold the loop
    async with db.engine.connect() as connection:  # Core on an AsyncConnection works too
        assert await connection.scalar(text("SELECT 1")) == 1


async def test_a_writer_waits_on_the_loop_while_another_holds_the_lock(two_writers: tuple[Database, Database]) -> None:
    first, second = two_writers
    holding = asyncio.Event()
    order: list[str] = []

    async def hold_the_lock() -> None:
        async with first.transaction() as session:
            await session.execute(insert(KIT.relay_state).values(a_relay("first")))
            holding.set()
            await asyncio.sleep(0.3)  # a consumer's batch still under way: the loop must go on for it to end
            order.append("first committed")

    async def write_after() -> None:
        await holding.wait()
        async with second.transaction() as session:
            await session.execute(insert(KIT.relay_state).values(a_relay("second")))  # BEGIN IMMEDIATE first
            order.append("second wrote")

    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(hold_the_lock(), write_after()), timeout=10)
    assert order == ["first committed", "second wrote"]
    assert time.monotonic() - started < 5  # not a busy timeout's 20 s
    async with first.read() as session:
        assert await session.scalar(select(func.count()).select_from(KIT.relay_state)) == 2


async def test_a_lock_held_by_another_process_is_waited_for_then_given_up(
    two_writers: tuple[Database, Database], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = two_writers
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process (a command-line tool) writing
    monkeypatch.setattr(sqlite_inline, "LOCK_WAIT_SECONDS", 0.5)
    ticks = 0

    async def loop_goes_on() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(loop_goes_on())
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError, match="locked"):
            async with db.transaction() as session:
                await session.execute(insert(KIT.relay_state).values(a_relay("blocked")))
        assert ticks >= 20  # the loop ran while the writer waited
        assert time.monotonic() - started < 5  # and gave up at its own deadline, not SQLite's busy timeout
        other.execute("COMMIT")
        async with db.transaction() as session:
            await session.execute(insert(KIT.relay_state).values(a_relay("after")))
    finally:
        ticker.cancel()
        other.close()
