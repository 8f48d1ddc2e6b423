"""SQLite's memory in a long-running service stays bounded (issue 14, item 5): a pooled connection keeps its
prepared statements, and statements whose text changes with the number of rows (a consumer's batch, an IN
list) must not pile up in it. Without the bounds in servicekit.db, 200 batches of 300-500 rows left about
48 MiB in one connection; read from SQLite's own counter (sqlite3_memory_used), not from the process's RSS."""

import _sqlite3
import ctypes
import random
import uuid
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from servicekit.db import Database

METADATA = MetaData()
ROWS = Table(
    "rows",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("event_id", String, unique=True),
    Column("topic", String),
    Column("position", Integer),
)
BATCHES = 200
BOUND_MIB = 12  # two pooled connections' worth of the bound (about 6 MiB each); unbounded: 21 MiB in this test
READ_BOUND_MIB = 7  # SELECTs are smaller: 4.6 MiB measured in this test, 9 MiB with sqlite3's default cache of 128

# The library the sqlite3 module was built with: a symbol looked up through the extension module's handle is
# found in it or in the libsqlite3 it links against.
_SQLITE = ctypes.CDLL(_sqlite3.__file__)
_SQLITE.sqlite3_memory_used.restype = ctypes.c_int64


def sqlite_mib() -> float:
    return float(_SQLITE.sqlite3_memory_used()) / 2**20


async def prepared(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'memory.db'}")
    async with db.engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    return db


async def test_batches_of_every_size_leave_a_bounded_set_of_statements_in_the_writer(tmp_path: Path) -> None:
    db = await prepared(tmp_path)
    rng = random.Random(14)
    try:
        before = sqlite_mib()
        for _ in range(BATCHES):
            rows = [{"event_id": str(uuid.uuid4()), "topic": "t", "position": i} for i in range(rng.randint(300, 500))]
            async with db.transaction() as session:
                claimed = list(await session.scalars(insert(ROWS).returning(ROWS.c.event_id), rows))
            assert len(claimed) == len(rows)
        grown = sqlite_mib() - before
    finally:
        await db.dispose()
    assert grown <= BOUND_MIB, f"SQLite holds {grown:.1f} MiB more after {BATCHES} batches"


async def test_in_lists_of_every_length_leave_a_bounded_set_of_statements_in_the_reader(tmp_path: Path) -> None:
    db = await prepared(tmp_path)
    rng = random.Random(5)
    try:
        async with db.transaction() as session:
            await session.execute(insert(ROWS), [{"event_id": f"e{i}", "topic": "t", "position": i} for i in range(600)])
        before = sqlite_mib()
        for _ in range(BATCHES):
            wanted = [f"e{i}" for i in range(rng.randint(300, 500))]
            async with db.read() as session:
                found = list(await session.scalars(select(ROWS.c.position).where(ROWS.c.event_id.in_(wanted))))
            assert len(found) == len(wanted)
        grown = sqlite_mib() - before
    finally:
        await db.dispose()
    assert grown <= READ_BOUND_MIB, f"SQLite holds {grown:.1f} MiB more after {BATCHES} reads"
