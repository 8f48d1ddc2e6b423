"""`python -m devstack.events [TOPIC ...]`: print the events on the broker, read with librdkafka.

An independent client (the confluent-kafka wheel's librdkafka, not the services' aiokafka) for
looking at the bus: every message from the beginning of each partition to its end, one JSON line
each (the CloudEvents attributes from the headers, and the payload). Debian 12's kcat (librdkafka
2.0) cannot talk to the embedded broker; this can, and so can any kcat built on librdkafka >= 2.16.
"""

import argparse
import json
import time
import uuid
from collections.abc import Iterator, Sequence

from confluent_kafka import Consumer, Message, TopicPartition

from contracts.envelope import EventEnvelope
from contracts.topics import ALL_TOPICS
from devstack.config import StackConfig


def messages(bootstrap: str, topics: Sequence[str], timeout: float = 30.0) -> Iterator[Message]:
    """Every message of `topics`, partition by partition from the low to the high watermark taken at the start."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"cadrecare-events-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        known = consumer.list_topics(timeout=10).topics
        remaining: dict[tuple[str, int], int] = {}
        start: list[TopicPartition] = []
        for topic in topics:
            for number in known[topic].partitions if topic in known else ():
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, number), timeout=10)
                if high > low:
                    start.append(TopicPartition(topic, number, low))
                    remaining[(topic, number)] = high
        consumer.assign(start)
        deadline = time.monotonic() + timeout
        while remaining and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            yield message
            place = (str(message.topic()), int(message.partition() or 0))
            if int(message.offset() or 0) + 1 >= remaining.get(place, 0):
                remaining.pop(place, None)
    finally:
        consumer.close()


def envelope_of(message: Message) -> EventEnvelope:
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    headers = [(name, value if isinstance(value, bytes) else str(value or "").encode()) for name, value in pairs]
    return EventEnvelope.from_kafka(headers, bytes(message.value() or b""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cadrecare-events", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("topics", nargs="*", help="topic names (default: every topic of the platform)")
    parser.add_argument("--bootstrap", default=StackConfig().kafka_bootstrap, help="host:port of the broker")
    arguments = parser.parse_args(argv)
    for message in messages(arguments.bootstrap, arguments.topics or [topic.name for topic in ALL_TOPICS]):
        envelope = envelope_of(message)
        print(
            json.dumps(
                {"topic": message.topic(), "offset": message.offset(), **envelope.model_dump(mode="json")}, ensure_ascii=False
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
