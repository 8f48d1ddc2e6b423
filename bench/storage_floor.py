"""The storage floor of a bench phase on SQLite: what SQLite alone spends writing the rows the phase added.

A service's database is copied (SQLite's online backup) before the phase; after it, the rows the phase added to
each table (rowid above the table's largest before it) are inserted again into a fresh copy of the "before"
database, with the same schema and indexes and the service's pragmas, by plain sqlite3 executemany, one
transaction per bulk. The CPU this takes is what no code of ours can save while the service keeps its tables
and indexes: the figure a bulk goal is measured against (issue 14, item 2, "if the layout is the wall, say so
with figures").

A lower bound: rows the phase updated or deleted are not replayed, nor the consumers' tracking rows updated
in place, nor foreign keys checked; nor are the broker, HTTP or event decoding counted.
"""

import contextlib
import shutil
import sqlite3
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

# as servicekit.db sets them on every connection of a service, but for foreign keys: a table's slice may hold
# a row whose parent is in the next slice of another table (and their checks are lookups by primary key)
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


@dataclass
class Added:
    """The rows a phase added to one table, in the order SQLite stored them."""

    table: str
    columns: list[str]
    rows: list[tuple[object, ...]]


@dataclass
class Floor:
    """CPU seconds to write one service's added rows: per table (its inserts) and the commits."""

    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    rows: Counter[str] = field(default_factory=Counter)

    def costliest(self, count: int) -> list[tuple[str, float]]:
        return sorted(self.seconds.items(), key=lambda kv: -kv[1])[:count]

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def snapshot(database: Path, copy: Path) -> None:
    """A consistent copy of a live database (its WAL included), taken while the service runs."""
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    with contextlib.closing(source), contextlib.closing(sqlite3.connect(copy)) as target:
        source.backup(target)


def _tables(connection: sqlite3.Connection) -> list[str]:
    query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    return [name for (name,) in connection.execute(query)]


def rows_added(before: Path, after: Path) -> list[Added]:
    """Every table's rows in `after` whose rowid is above the largest in `before` (WITHOUT ROWID tables: none)."""
    added = []
    with contextlib.closing(sqlite3.connect(f"file:{after}?mode=ro", uri=True)) as connection:
        connection.execute("ATTACH DATABASE ? AS earlier", (f"file:{before}?mode=ro",))
        for table in _tables(connection):
            try:
                (largest,) = connection.execute(f'SELECT coalesce(max(rowid), 0) FROM earlier."{table}"').fetchone()
                cursor = connection.execute(f'SELECT * FROM main."{table}" WHERE rowid > ? ORDER BY rowid', (largest,))
            except sqlite3.OperationalError:  # WITHOUT ROWID: not replayed, the floor stays a lower bound
                continue
            rows = cursor.fetchall()
            if rows:
                added.append(Added(table, [d[0] for d in cursor.description], rows))
    return added


def _insert(added: Added) -> str:
    columns = ", ".join(f'"{column}"' for column in added.columns)
    return f'INSERT INTO "{added.table}" ({columns}) VALUES ({", ".join("?" * len(added.columns))})'


def replay(before: Path, added: list[Added], transactions: int) -> Floor:
    """The CPU this process spends inserting `added` into a copy of `before`, in `transactions` equal slices of
    every table (slice i of each table in transaction i, as the phase's bulks came)."""
    floor = Floor()
    with tempfile.TemporaryDirectory(prefix="storage-floor-") as scratch:
        copy = Path(scratch) / "floor.db"
        shutil.copyfile(before, copy)
        with contextlib.closing(sqlite3.connect(copy, isolation_level=None)) as connection:
            for pragma in PRAGMAS:
                connection.execute(pragma)
            statements = {t.table: _insert(t) for t in added}
            for i in range(transactions):
                connection.execute("BEGIN")
                for t in added:
                    part = t.rows[len(t.rows) * i // transactions : len(t.rows) * (i + 1) // transactions]
                    started = time.process_time()
                    connection.executemany(statements[t.table], part)
                    floor.seconds[t.table] += time.process_time() - started
                    floor.rows[t.table] += len(part)
                started = time.process_time()
                connection.execute("COMMIT")
                floor.seconds["(commits)"] += time.process_time() - started
    return floor
