"""The rebuild's statements: what empties the read models and this service's consumer bookkeeping, and what
counts the events replayed. Issued reports are no read model: a rebuild keeps them."""

from sqlalchemy import Delete, Executable, Index, delete, func, insert, select, text
from sqlalchemy.schema import CreateIndex, DropIndex

from reporting.facts import Rows
from reporting.projections import CONSUMER_NAMES
from reporting.tables import FIGURE_INDEXES, KIT, READ_MODELS, FigureRecount
from servicekit.clock import now
from servicekit.sql import table_of


def emptying(dialect: str) -> list[Executable]:
    """One TRUNCATE on PostgreSQL (emptying a million rows takes a moment, not minutes), DELETEs elsewhere; and the
    figures' recount asked for (`reporting.tables.FigureRecount`)."""
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
    return [*read_models, *bookkeeping, *asking_for_recount()]


def asking_for_recount() -> list[Executable]:
    return [delete(FigureRecount), insert(FigureRecount).values(id=1, asked_at=now())]


def recount_asked() -> Rows:
    return select(func.count()).select_from(FigureRecount)


def recount_done() -> Delete:
    return delete(FigureRecount)


def applied_events() -> Rows:
    processed = KIT.processed_events
    return (
        select(func.count())
        .select_from(processed)
        .where(processed.c.consumer.in_(CONSUMER_NAMES), processed.c.outcome == "applied")
    )


def figure_indexes() -> list[Index]:
    """The read models' indexes only the figures read (`reporting.tables.FIGURE_INDEXES`)."""
    return [index for model in READ_MODELS for index in table_of(model).indexes if index.name in FIGURE_INDEXES]


def dropping_figure_indexes() -> list[Executable]:
    return [DropIndex(index, if_exists=True) for index in figure_indexes()]


def building_figure_indexes() -> list[Executable]:
    """Each figure index as the models declare it; then fresh statistics for the planner."""
    names = ", ".join(f'"{table_of(model).name}"' for model in READ_MODELS)
    return [*(CreateIndex(index, if_not_exists=True) for index in figure_indexes()), text(f"ANALYZE {names}")]
