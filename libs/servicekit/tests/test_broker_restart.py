"""A memory-only broker that restarts empty: nothing published is lost, nothing is applied twice.

Real broker processes (a restart is a new process with a new cluster id on the same port), on SQLite
and PostgreSQL.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from event_flow_support import KIT, append_events, effect_counts, make_consumer, unsent, wait_until
from sqlalchemy import func, select, text, update

from contracts.topics import CADRES
from servicekit.broker import Broker
from servicekit.consumer import EventConsumer
from servicekit.db import Database
from servicekit.embedded import TansuBroker
from servicekit.outbox import RELAY_LOCK_KEY, Outbox, OutboxRelay


@asynccontextmanager
async def running(*workers: EventConsumer | OutboxRelay) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        _done, pending = await asyncio.wait(tasks, timeout=15)
        assert not pending, f"workers that did not stop when cancelled: {pending}"


def relay_of(db: Database, outbox: Outbox, kafka_broker: TansuBroker) -> OutboxRelay:
    return OutboxRelay(db, outbox, Broker(kafka_broker.bootstrap), poll_seconds=0.05)


async def applied_exactly_once(db: Database, ids: list[str]) -> bool:
    return await effect_counts(db) == {event_id: 1 for event_id in ids}


async def test_a_lagging_consumer_gets_what_the_old_broker_had_after_the_platform_restarts(
    db: Database, kafka_broker: TansuBroker
) -> None:
    outbox = Outbox(KIT, source="test")
    async with running(relay_of(db, outbox, kafka_broker), make_consumer(db, kafka_broker)):
        ids = await append_events(db, outbox, 10)
        await wait_until(lambda: applied_exactly_once(db, ids))
    async with running(relay_of(db, outbox, kafka_broker)):  # the consumer is paused: it lags
        ids += await append_events(db, outbox, 15)
        await wait_until(lambda: _zero(unsent(db)))  # published to the old broker and marked sent
    kafka_broker.stop()
    kafka_broker.start()  # empty, with a new cluster id, on the same port
    async with running(relay_of(db, outbox, kafka_broker), make_consumer(db, kafka_broker)):
        ids += await append_events(db, outbox, 5)
        await wait_until(lambda: applied_exactly_once(db, ids), timeout=40)  # a bound, not a speed: loaded CI took 20 s
    positions = await _position_clusters(db)
    assert positions == {kafka_broker.cluster_id}


async def test_a_broker_replaced_under_running_workers_loses_and_doubles_nothing(db: Database, kafka_broker: TansuBroker) -> None:
    outbox = Outbox(KIT, source="test")
    async with running(relay_of(db, outbox, kafka_broker), make_consumer(db, kafka_broker)):
        ids = await append_events(db, outbox, 30)
        await wait_until(lambda: applied_exactly_once(db, ids))
        kafka_broker.stop()
        kafka_broker.start()
        ids += await append_events(db, outbox, 7)
        await wait_until(lambda: applied_exactly_once(db, ids), timeout=40)
        await asyncio.sleep(1.5)  # the retained events came again: still applied once each
        assert await applied_exactly_once(db, ids)


async def test_a_stored_position_past_the_end_of_the_log_is_read_again_from_the_beginning(
    db: Database, kafka_broker: TansuBroker
) -> None:
    """The same cluster with a shorter log (a topic deleted and recreated): waiting at the old offset would miss everything."""
    outbox = Outbox(KIT, source="test")
    async with running(relay_of(db, outbox, kafka_broker), make_consumer(db, kafka_broker)):
        ids = await append_events(db, outbox, 6)
        await wait_until(lambda: applied_exactly_once(db, ids))
    async with db.transaction() as session:
        await session.execute(update(KIT.consumer_positions).values(next_offset=1000))
    async with running(relay_of(db, outbox, kafka_broker), make_consumer(db, kafka_broker)):
        ids += await append_events(db, outbox, 4)
        await wait_until(lambda: applied_exactly_once(db, ids))


async def test_positions_of_another_broker_are_not_trusted_and_the_log_says_so(
    db: Database, kafka_broker: TansuBroker, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(KIT, source="test")
    async with running(relay_of(db, outbox, kafka_broker), make_consumer(db, kafka_broker)):
        ids = await append_events(db, outbox, 3)
        await wait_until(lambda: applied_exactly_once(db, ids))
    async with db.transaction() as session:
        await session.execute(update(KIT.consumer_positions).values(cluster_id="some-other-broker"))
    consumer = make_consumer(db, kafka_broker)
    async with running(consumer):
        await wait_until(lambda: _equal(_position_clusters(db), {kafka_broker.cluster_id}))
    assert "not in the broker's log" in caplog.text
    assert await applied_exactly_once(db, ids)
    assert (await consumer.stored_positions()).keys() <= {(CADRES.name, p) for p in range(3)}


async def test_sent_events_are_kept_for_the_retention_period_then_pruned(db: Database, kafka_broker: TansuBroker) -> None:
    outbox = Outbox(KIT, source="test")
    relay = OutboxRelay(db, outbox, Broker(kafka_broker.bootstrap), retention=timedelta(days=7))
    await append_events(db, outbox, 4)
    assert await relay.publish_pending() == 4
    async with db.transaction() as session:
        oldest = (await session.scalars(select(KIT.outbox.c.id).order_by(KIT.outbox.c.id).limit(2))).all()
        aged = datetime.now(UTC) - timedelta(days=8)
        await session.execute(update(KIT.outbox).where(KIT.outbox.c.id.in_(oldest)).values(sent_at=aged))
    relay._prune.again()  # due now
    assert await relay.prune_sent() == 2
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(KIT.outbox)) == 2


async def _position_clusters(db: Database) -> set[str | None]:
    async with db.transaction() as session:
        return set(await session.scalars(select(KIT.consumer_positions.c.cluster_id).distinct()))


async def _zero(count: "asyncio.Future[int] | object") -> bool:
    return await count == 0  # type: ignore[misc]


async def _equal(value: "asyncio.Future[object] | object", expected: object) -> bool:
    return await value == expected  # type: ignore[misc]


async def test_a_broker_away_for_seconds_comes_back_empty_and_nothing_is_lost(db: Database, kafka_broker: TansuBroker) -> None:
    """Down long enough for every client call to fail (and for aiokafka to cancel some under the workers)."""
    outbox = Outbox(KIT, source="test")
    async with running(relay_of(db, outbox, kafka_broker), make_consumer(db, kafka_broker)):
        ids = await append_events(db, outbox, 10)
        await wait_until(lambda: applied_exactly_once(db, ids))
        kafka_broker.stop()
        ids += await append_events(db, outbox, 5)
        await asyncio.sleep(6)
        kafka_broker.start()
        await wait_until(lambda: applied_exactly_once(db, ids), timeout=40)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one relay and no lock
async def test_a_stopped_relay_gives_its_leadership_back(db: Database, kafka_broker: TansuBroker) -> None:
    """On PostgreSQL the relay leads through a session advisory lock; stopped, it must release it, or the next
    relay of the process waits until the pool hands it the very connection that still holds the lock."""
    outbox = Outbox(KIT, source="test")
    async with running(relay_of(db, outbox, kafka_broker)):
        await append_events(db, outbox, 3)
        await wait_until(lambda: _zero(unsent(db)))  # it led: it published
    async with db.engine.connect() as other_session:
        taken = await other_session.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": RELAY_LOCK_KEY})
        await other_session.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RELAY_LOCK_KEY})
    assert taken, "the stopped relay still holds the leadership lock"
