"""A worker stops on the one cancellation its owner sends, wherever in its loop that cancellation lands.

A rebuild's catch-up (and every test that runs a consumer) cancels the consumer once and waits for it. On
Python 3.11 `asyncio.wait_for` lost a cancellation that came just as the awaited call completed; the consumer
asks the broker for its cluster id through such a wait every second, went on consuming, and the catch-up
waited for it until the test timed out (seed 003's rebuild test on SQLite, once in about a hundred runs).
"""

import asyncio
from typing import Any

import pytest
from event_flow_support import effect_counts, make_consumer, registered, wait_until

from contracts.envelope import EventEnvelope
from contracts.topics import CADRES
from servicekit.broker import Broker
from servicekit.db import Database
from servicekit.embedded import TansuBroker
from servicekit.timeouts import within


async def test_a_cancellation_that_arrives_as_the_awaited_call_completes_is_raised() -> None:
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    waiting = asyncio.create_task(within(5, answer))
    await asyncio.sleep(0)  # the task now waits for the answer
    answer.set_result("cluster-1")
    waiting.cancel()  # in the same turn of the loop as the answer
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_bounded_wait_still_times_out() -> None:
    with pytest.raises(TimeoutError):
        await within(0.01, asyncio.Event().wait())


class AnswersAsTheConsumerIsCancelled(Broker):
    """The real broker, whose cluster id comes back in the same turn as the consumer's cancellation, once armed."""

    consuming: "asyncio.Task[None] | None" = None

    async def _describe_cluster(self) -> dict[str, Any]:
        described = await super()._describe_cluster()
        if self.consuming is not None:
            self.consuming.cancel()
        return described


async def test_a_consumer_cancelled_as_the_broker_tells_it_the_cluster_id_stops(db: Database, kafka_broker: TansuBroker) -> None:
    publisher = Broker(kafka_broker.bootstrap)
    broker = AnswersAsTheConsumerIsCancelled(kafka_broker.bootstrap)
    consumer = make_consumer(db, kafka_broker)
    consumer.broker = broker
    consuming = asyncio.create_task(consumer.run())
    try:
        event = EventEnvelope.wrap(registered(), source="test", subject="x")
        producer = await publisher.producer()
        await producer.send_and_wait(CADRES.name, event.payload_bytes(), key=b"k", headers=event.to_kafka_headers())

        async def applied() -> bool:
            return str(event.id) in await effect_counts(db)

        await wait_until(applied)  # the consumer is in its loop, which asks for the cluster id every second
        broker.consuming = consuming
        # a bound so that a consumer that goes on running fails the test instead of hanging it
        done, _ = await asyncio.wait([consuming], timeout=15)
        assert done, f"the consumer went on after its cancellation ({consuming.cancelling()} cancellation requests)"
        assert consuming.cancelled()
    finally:
        broker.consuming = None
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await publisher.close()
        await broker.close()
