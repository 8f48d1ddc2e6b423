"""The unit of work's boundary (Database.transaction): before-commit steps write inside it, after-commit
callbacks run once it committed, and neither runs on a rollback. On SQLite and PostgreSQL."""

import pytest
from event_flow_support import KIT, registered
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.db import Database, after_commit, before_commit
from servicekit.outbox import Outbox


async def count_outbox(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(KIT.outbox)) or 0


async def test_steps_run_before_the_commit_and_callbacks_after_it(db: Database) -> None:
    seen: list[str] = []

    async def write_buffered(session: AsyncSession) -> None:
        seen.append("before")
        await Outbox(KIT, source="test").append(session, registered(), subject="s")

    async with db.transaction() as session:
        before_commit(session, "buffer", write_buffered)
        before_commit(session, "buffer", write_buffered)  # one step per key
        after_commit(session, "told", lambda: seen.append("after"))
        assert seen == []
    assert seen == ["before", "after"]
    assert await count_outbox(db) == 1  # the step's write was committed with the transaction


async def test_nothing_runs_when_the_transaction_rolls_back(db: Database) -> None:
    seen: list[str] = []

    async def step(_session: AsyncSession) -> None:
        seen.append("before")

    async def refused() -> None:
        async with db.transaction() as session:
            before_commit(session, "step", step)
            after_commit(session, "told", lambda: seen.append("after"))
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await refused()
    assert seen == []


async def test_the_outbox_wakes_its_relay_only_when_the_events_are_committed(db: Database) -> None:
    outbox = Outbox(KIT, source="test")

    async def refused() -> None:
        async with db.transaction() as session:
            await outbox.append(session, registered(), subject="s")
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await refused()
    assert not outbox.committed.is_set() and await count_outbox(db) == 0
    async with db.transaction() as session:
        await outbox.append(session, registered(), subject="s")
        assert not outbox.committed.is_set()
    assert outbox.committed.is_set()


async def test_one_writer_queues_the_writers_of_a_process(db: Database, database_url: str) -> None:
    queued = Database(database_url, one_writer=True)
    try:
        if not database_url.startswith("sqlite"):
            assert queued.writer is None  # PostgreSQL takes concurrent writers
            return
        assert queued.writer is not None
        async with queued.transaction() as session:
            assert queued.writer.locked()
            await session.execute(insert(KIT.relay_state).values(relay="r", cluster_id="c", changed_at=func.now()))
        assert not queued.writer.locked()
    finally:
        await queued.dispose()
