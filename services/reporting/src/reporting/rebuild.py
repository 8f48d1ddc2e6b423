"""Rebuild: empty the read models and replay every topic reporting consumes from offset 0.

How the history is kept: reporting's topics are the system of record for replay. In production they
are created with `retention.ms=-1` (keep forever; not compacted, since every cadre event is needed
for the intervals "as of a date"); the embedded broker keeps them in memory for its lifetime. The
services' outboxes keep the published rows too, so a lost topic can be re-published from them.

In place (`python -m reporting.rebuild`): stop the reporting service first (scale it to 0), run the
command, start the service again; the command truncates the read models and this service's
consumer positions and processed-event ids, replays up to the end offsets it saw at its start, and
prints the figures it replayed. `--database-url` pointing at a fresh (migrated) database builds a
second copy while the service keeps serving from the first; switch over when it has caught up.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import OperationalError

from contracts.api.reporting import RebuildResult
from reporting.projections import CONSUMER_NAMES, handlers_by_consumer
from reporting.tables import KIT, READ_MODELS
from servicekit.broker import Broker
from servicekit.consumer import EventConsumer
from servicekit.db import Database
from servicekit.sql import dialect_name, table_of


def build_consumers(db: Database, broker: Broker, max_attempts: int = 3) -> list[EventConsumer]:
    return [
        EventConsumer(name, db, KIT, broker, handlers, max_attempts=max_attempts)
        for name, handlers in handlers_by_consumer().items()
    ]


async def clear(db: Database) -> None:
    """Empty every read model and forget this service's consumer positions and processed ids, in one transaction."""
    async with db.transaction() as session:
        if dialect_name(session) == "postgresql":  # TRUNCATE: emptying a million rows takes a moment, not minutes
            names = ", ".join(f'"{table_of(model).name}"' for model in READ_MODELS)
            await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
        else:
            for model in READ_MODELS:
                await session.execute(delete(model))
        await session.execute(delete(KIT.processed_events).where(KIT.processed_events.c.consumer.in_(CONSUMER_NAMES)))
        await session.execute(delete(KIT.consumer_positions).where(KIT.consumer_positions.c.consumer.in_(CONSUMER_NAMES)))


async def end_offsets(broker: Broker, topics: Sequence[str]) -> dict[tuple[str, int], int]:
    await broker.ensure_topics(list(topics))
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or {0})]
        ends = await consumer.end_offsets(partitions)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def caught_up(consumers: Sequence[EventConsumer], targets: dict[str, dict[tuple[str, int], int]]) -> bool:
    for consumer in consumers:
        stored = await consumer.stored_positions()
        if any(stored.get(tp, 0) < end for tp, end in targets[consumer.name].items() if end > 0):
            return False
    return True


async def _caught_up_or_busy(consumers: Sequence[EventConsumer], targets: dict[str, dict[tuple[str, int], int]]) -> bool:
    try:
        return await caught_up(consumers, targets)
    except OperationalError:  # SQLite: the consumers hold the write lock; ask again later
        return False


async def catch_up(consumers: Sequence[EventConsumer], broker: Broker, *, timeout: float = 600.0) -> None:
    """Run the consumers until each has applied everything that was on its topics when this was called."""
    targets = {c.name: await end_offsets(broker, c.topics) for c in consumers}
    tasks = [asyncio.create_task(c.run(), name=f"catch-up-{c.name}") for c in consumers]
    deadline = time.monotonic() + timeout
    try:
        while not await _caught_up_or_busy(consumers, targets):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the consumers did not catch up within {timeout:.0f}s")
            for task in tasks:
                if task.done():
                    task.result()  # a crashed consumer: raise its error
            await asyncio.sleep(0.25)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def applied_events(db: Database) -> int:
    async with db.transaction() as session:
        processed = KIT.processed_events
        return (
            await session.scalar(
                select(func.count())
                .select_from(processed)
                .where(processed.c.consumer.in_(CONSUMER_NAMES), processed.c.outcome == "applied")
            )
            or 0
        )


async def rebuild(db: Database, broker: Broker, *, timeout: float = 600.0) -> RebuildResult:
    started = time.monotonic()
    await clear(db)
    consumers = build_consumers(db, broker)
    await catch_up(consumers, broker, timeout=timeout)
    return RebuildResult(
        consumers=[c.name for c in consumers],
        events_applied=await applied_events(db),
        seconds=round(time.monotonic() - started, 3),
    )


def main(argv: list[str] | None = None) -> int:
    from reporting.settings import ReportingSettings
    from servicekit import migrations

    parser = argparse.ArgumentParser(
        prog="python -m reporting.rebuild", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--database-url", default=None, help="default: REPORTING_DATABASE_URL / the settings' default")
    parser.add_argument("--bootstrap", default=None, help="Kafka bootstrap servers; default: REPORTING_KAFKA_BOOTSTRAP")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    settings = ReportingSettings()
    url = args.database_url or settings.database_url
    migrations.upgrade("reporting", url)

    async def run() -> RebuildResult:
        db = Database(url)
        broker = Broker(args.bootstrap or settings.kafka_bootstrap, client_id="cadrecare-reporting-rebuild")
        try:
            return await rebuild(db, broker, timeout=args.timeout)
        finally:
            await broker.close()
            await db.dispose()

    print(asyncio.run(run()).model_dump_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
