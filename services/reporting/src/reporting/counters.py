"""Counter tables (the pre-aggregates): deltas added to rows keyed by their primary key, in one statement."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

Key = tuple[Any, ...]


def add_counts(session: Session, table: Any, keys: Sequence[str], deltas: dict[Key, dict[str, int]]) -> None:
    """Add each delta to its row (created at 0); rows left at zero are removed."""
    if not deltas:
        return
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    values = list(next(iter(deltas.values())))
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={v: table.c[v] + statement.excluded[v] for v in values}
    )
    rows = [{**dict(zip(keys, key, strict=True)), **delta} for key, delta in sorted(deltas.items(), key=str)]
    stored = session.execute(statement.returning(*(table.c[k] for k in keys), *(table.c[v] for v in values)), rows)
    emptied = [{f"k_{k}": v for k, v in zip(keys, row, strict=False)} for row in stored if not any(row[len(keys) :])]
    if emptied:  # a counter back at zero is no row (a step counter may pass through zero from below too)
        by_key = (table.c[k] == bindparam(f"k_{k}") for k in keys)
        session.execute(delete(table).where(*by_key), emptied)
