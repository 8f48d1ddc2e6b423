"""Rebuild: empty the read models and replay every topic reporting consumes from offset 0, until the
consumers have applied everything that was on the topics when it started."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import Executable
from sqlalchemy.exc import OperationalError

from contracts.api.reporting import RebuildResult
from reporting import preaggregates
from reporting.projections import build_consumers
from reporting.rebuild import queries
from servicekit.broker import Broker
from servicekit.consumer import EventConsumer
from servicekit.db import Database
from servicekit.sql import dialect_name

log = logging.getLogger(__name__)


async def clear(db: Database) -> None:
    """Empty every read model and forget this service's consumer positions and processed ids, in one transaction."""
    async with db.transaction() as session:
        for statement in queries.emptying(dialect_name(session)):
            await session.execute(statement)


async def end_offsets(broker: Broker, topics: Sequence[str]) -> dict[tuple[str, int], int]:
    await broker.ensure_topics(list(topics))
    consumer = AIOKafkaConsumer(**broker.client_options(), enable_auto_commit=False)  # the same connection as the consumers
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or {0})]
        ends = await consumer.end_offsets(partitions)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def caught_up(consumers: Sequence[EventConsumer], targets: dict[str, dict[tuple[str, int], int]]) -> bool:
    """Every partition that held events at the start applied up to the end of its log, the later of the end asked
    for then and the end its consumer's last fetch saw (the embedded broker's ListOffsets can answer short: seen,
    201 of 300, and a catch-up that trusted it stopped with a fifth of a partition's cadres missing)."""
    for consumer in consumers:
        stored, fetched = await consumer.stored_positions(), consumer.log_ends()
        for tp, end in targets[consumer.name].items():
            if end > 0 and (tp not in fetched or stored.get(tp, 0) < max(end, fetched[tp])):
                return False
    return True


async def _caught_up_or_busy(consumers: Sequence[EventConsumer], targets: dict[str, dict[tuple[str, int], int]]) -> bool:
    try:
        return await caught_up(consumers, targets)
    except OperationalError:  # SQLite: the consumers hold the write lock; ask again later
        return False


SETTLE_SECONDS = 1.0


def _check(tasks: Sequence["asyncio.Task[None]"], deadline: float, timeout: float) -> None:
    if time.monotonic() > deadline:
        raise TimeoutError(f"the consumers did not catch up within {timeout:.0f}s")
    for task in tasks:
        if task.done():
            task.result()  # a crashed consumer: raise its error


async def _settled(
    consumers: Sequence[EventConsumer], tasks: Sequence["asyncio.Task[None]"], deadline: float, timeout: float
) -> None:
    """Until no consumer's stored position moves for a second: the embedded broker's end offsets can fall short
    of the log's end (it answers with the end of the last batch's first record), and consumers committing in
    small transactions pass such a target while the rest of the batch is still to apply."""
    last: list[dict[tuple[str, int], int]] | None = None
    since = time.monotonic()
    while time.monotonic() - since < SETTLE_SECONDS:
        try:
            positions: list[dict[tuple[str, int], int]] | None = [await c.stored_positions() for c in consumers]
        except OperationalError:  # SQLite: a consumer holds the write lock, so it is still applying
            positions = None
        if positions is None or positions != last:
            last, since = positions, time.monotonic()
        _check(tasks, deadline, timeout)
        await asyncio.sleep(0.25)


async def catch_up(consumers: Sequence[EventConsumer], broker: Broker, *, timeout: float = 600.0) -> None:
    """Run the consumers until each has applied everything that was on its topics when this was called."""
    targets = {c.name: await end_offsets(broker, c.topics) for c in consumers}
    tasks = [asyncio.create_task(c.run(), name=f"catch-up-{c.name}") for c in consumers]
    deadline = time.monotonic() + timeout
    try:
        while not await _caught_up_or_busy(consumers, targets):
            _check(tasks, deadline, timeout)
            await asyncio.sleep(0.25)
        await _settled(consumers, tasks, deadline, timeout)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def applied_events(db: Database) -> int:
    async with db.transaction() as session:
        return await session.scalar(queries.applied_events()) or 0


async def _execute(db: Database, statements: Sequence[Executable]) -> None:
    async with db.transaction() as session:
        for statement in statements:
            await session.execute(statement)


async def count_figures(db: Database) -> None:
    """The figures' pre-aggregates counted from the facts, and the recount asked for marked done, in one transaction."""
    async with db.transaction() as session:
        await session.run_sync(preaggregates.refill)
        await session.execute(queries.recount_done())


async def count_figures_if_asked(db: Database) -> bool:
    """At the service's start, before its consumers: the recount a rebuild stopped half-way left asked for."""
    async with db.transaction() as session:
        asked = bool(await session.scalar(queries.recount_asked()))
    if asked:
        log.warning("the figures' pre-aggregates are counted again from the facts: a rebuild did not finish")
        await count_figures(db)
    return asked


@asynccontextmanager
async def figures_counted_if_asked(db: Database) -> AsyncIterator[None]:
    await count_figures_if_asked(db)
    yield


async def rebuild(db: Database, broker: Broker, *, timeout: float = 600.0) -> RebuildResult:
    """Empty the read models and replay the history into them: the facts event by event, the figures' pre-aggregates
    counted from them once at the end. On PostgreSQL the indexes only the figures read are dropped meanwhile and
    built once at the end (a rebuild that stops half-way leaves the read models half-filled and those indexes
    absent until it is run again)."""
    started = time.monotonic()
    await clear(db)
    on_postgresql = db.engine.dialect.name == "postgresql"
    if on_postgresql:
        await _execute(db, queries.dropping_figure_indexes())
    consumers = build_consumers(db, broker, figures_at_the_end=True)
    try:
        await catch_up(consumers, broker, timeout=timeout)
    finally:
        await count_figures(db)
        if on_postgresql:
            await _execute(db, queries.building_figure_indexes())
    return RebuildResult(
        consumers=[c.name for c in consumers],
        events_applied=await applied_events(db),
        seconds=round(time.monotonic() - started, 3),
    )
