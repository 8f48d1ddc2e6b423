"""A trickle of events lingers a moment for what follows, so that one transaction applies several; a full fetch
and an empty one do not wait. The consumer's fetches come from a fake of aiokafka's getmany (no broker)."""

from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from event_flow_support import KIT, record_effect

from contracts.events.registry import CadreRegistered
from servicekit import consumer as consumer_module
from servicekit.broker import Broker
from servicekit.consumer import FETCH_RECORDS, LINGER_BELOW, EventConsumer
from servicekit.db import Database

Fetch = dict[TopicPartition, list[ConsumerRecord[Any, Any]]]
FIRST, SECOND = TopicPartition("t", 0), TopicPartition("t", 1)


def records(partition: TopicPartition, offsets: range) -> list[ConsumerRecord[Any, Any]]:
    return [ConsumerRecord(partition.topic, partition.partition, n, 0, 0, b"k", b"v", None, 1, 1, []) for n in offsets]


class FakeFetches:
    """aiokafka's getmany as the consumer calls it: each call answers the next prepared fetch, then nothing."""

    def __init__(self, *fetches: Fetch) -> None:
        self.fetches = list(fetches)
        self.calls: list[tuple[int, int]] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> Fetch:
        self.calls.append((timeout_ms, max_records))
        return self.fetches.pop(0) if self.fetches else {}


def consumer_over(fetches: FakeFetches, tmp_path: Path) -> EventConsumer:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'linger.db'}")
    consumer = EventConsumer("linger", db, KIT, Broker("127.0.0.1:1"), {CadreRegistered: record_effect})
    consumer._consumer = fetches  # type: ignore[assignment]
    return consumer


async def test_a_trickle_waits_once_for_what_follows_each_partition_in_order(tmp_path: Path, monkeypatch: Any) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(consumer_module.asyncio, "sleep", sleep)
    fetches = FakeFetches(
        {FIRST: records(FIRST, range(0, 1)), SECOND: records(SECOND, range(5, 6))},
        {FIRST: records(FIRST, range(1, 3))},
    )
    batches = await consumer_over(fetches, tmp_path)._fetched()
    assert [r.offset for r in batches[FIRST]] == [0, 1, 2] and [r.offset for r in batches[SECOND]] == [5]
    assert slept == [consumer_module.LINGER_SECONDS]
    assert fetches.calls[1] == (0, FETCH_RECORDS - 2)  # what follows is taken without waiting again


async def test_a_full_fetch_and_an_empty_one_do_not_wait(tmp_path: Path, monkeypatch: Any) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(consumer_module.asyncio, "sleep", sleep)
    full = FakeFetches({FIRST: records(FIRST, range(LINGER_BELOW))})
    assert len((await consumer_over(full, tmp_path)._fetched())[FIRST]) == LINGER_BELOW
    empty = FakeFetches()
    assert await consumer_over(empty, tmp_path)._fetched() == {}
    assert slept == [] and len(full.calls) == 1 and len(empty.calls) == 1
