"""The storage floor replays exactly the rows a phase added, into the schema and indexes the database had."""

import contextlib
import sqlite3
from pathlib import Path

import pytest

from bench import storage_floor


def database(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


def test_the_rows_a_phase_added_are_written_again_in_slices(tmp_path: Path) -> None:
    live, before, after = tmp_path / "live.db", tmp_path / "before.db", tmp_path / "after.db"
    with contextlib.closing(database(live)) as connection:
        connection.execute("CREATE TABLE fact (id TEXT PRIMARY KEY, province TEXT, version INT)")
        connection.execute("CREATE INDEX ix_fact_province ON fact (province, id)")
        connection.execute("CREATE TABLE untouched (id INTEGER PRIMARY KEY)")
        connection.executemany("INSERT INTO fact VALUES (?, 'VN.68', 1)", [(f"old-{i}",) for i in range(10)])
        connection.execute("INSERT INTO untouched VALUES (1)")
        storage_floor.snapshot(live, before)
        connection.executemany("INSERT INTO fact VALUES (?, 'VN.01', 1)", [(f"new-{i}",) for i in range(7)])
        connection.execute("UPDATE fact SET version = 2 WHERE id = 'old-1'")  # not added: not replayed
        storage_floor.snapshot(live, after)

    added = storage_floor.rows_added(before, after)

    assert [(a.table, a.columns) for a in added] == [("fact", ["id", "province", "version"])]
    assert [row[0] for row in added[0].rows] == [f"new-{i}" for i in range(7)]
    floor = storage_floor.replay(before, added, transactions=3)
    assert floor.rows == {"fact": 7}
    assert set(floor.seconds) == {"fact", "(commits)"}
    with contextlib.closing(sqlite3.connect(before)) as connection:  # the replay wrote to a copy
        assert connection.execute("SELECT count(*) FROM fact").fetchone() == (10,)


def test_a_replayed_row_must_fit_the_schema_it_is_written_into(tmp_path: Path) -> None:
    """The replay runs the real constraints: a row the "before" database already holds is refused."""
    before = tmp_path / "before.db"
    with contextlib.closing(database(before)) as connection:
        connection.execute("CREATE TABLE fact (id TEXT PRIMARY KEY)")
        connection.execute("INSERT INTO fact VALUES ('a')")
    duplicate = storage_floor.Added("fact", ["id"], [("a",)])

    with pytest.raises(sqlite3.IntegrityError):
        storage_floor.replay(before, [duplicate], transactions=1)
