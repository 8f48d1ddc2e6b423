"""The rebuild's statements: what empties the read models and this service's consumer bookkeeping, and what
counts the events replayed. Issued reports are no read model: a rebuild keeps them."""

from sqlalchemy import Delete, Executable, delete, func, select, text

from reporting.facts import Rows
from reporting.projections import CONSUMER_NAMES
from reporting.tables import KIT, READ_MODELS
from servicekit.sql import table_of


def emptying(dialect: str) -> list[Executable]:
    """One TRUNCATE on PostgreSQL (emptying a million rows takes a moment, not minutes), DELETEs elsewhere."""
    read_models: list[Executable]
    if dialect == "postgresql":
        names = ", ".join(f'"{table_of(model).name}"' for model in READ_MODELS)
        read_models = [text(f"TRUNCATE {names} RESTART IDENTITY")]
    else:
        read_models = [delete(model) for model in READ_MODELS]
    bookkeeping: list[Delete] = [
        delete(KIT.processed_events).where(KIT.processed_events.c.consumer.in_(CONSUMER_NAMES)),
        delete(KIT.consumer_positions).where(KIT.consumer_positions.c.consumer.in_(CONSUMER_NAMES)),
    ]
    return [*read_models, *bookkeeping]


def applied_events() -> Rows:
    processed = KIT.processed_events
    return (
        select(func.count())
        .select_from(processed)
        .where(processed.c.consumer.in_(CONSUMER_NAMES), processed.c.outcome == "applied")
    )
