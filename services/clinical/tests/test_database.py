"""Clinical's database (ClinicalSettings.sqlite_one_writer): on SQLite the writers of one process queue
instead of busy-waiting, and readers never wait. On SQLite and PostgreSQL."""

import asyncio
from pathlib import Path

from sqlalchemy import text

from servicekit import migrations
from servicekit.db import Database


async def test_on_sqlite_the_writers_of_a_process_take_turns_and_readers_never_wait(database_url: str, tmp_path: Path) -> None:
    migrations.upgrade("clinical", database_url)
    db = Database(database_url, one_writer=True)
    if not database_url.startswith("sqlite"):
        assert db.writer is None  # PostgreSQL takes concurrent writers; clinical's advisory locks order conflicts
        await db.dispose()
        return
    inside: list[int] = []
    overlaps: list[int] = []

    async def writer(number: int) -> None:
        async with db.transaction() as session:
            if inside:
                overlaps.append(number)
            inside.append(number)
            await asyncio.sleep(0.005)  # a turn spans awaits: the others must not start meanwhile
            await session.execute(text("SELECT count(*) FROM clinical_record"))
            inside.remove(number)

    async def reader() -> int:
        async with db.read() as session:
            return int(await session.scalar(text("SELECT count(*) FROM clinical_record")) or 0)

    try:
        async with db.transaction() as session:  # a writer holds its turn ...
            await session.execute(text("SELECT 1"))
            assert await asyncio.wait_for(reader(), 2) == 0  # ... and a reader still gets through
        await asyncio.gather(*[writer(n) for n in range(20)])
        assert overlaps == [] and inside == []
    finally:
        await db.dispose()
