"""Broker wiring on aiokafka: one producer per process, topic creation, reachability."""

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from contracts.topics import ALL_TOPICS

log = logging.getLogger(__name__)


class Broker:
    def __init__(
        self,
        bootstrap: str,
        *,
        idempotence: bool = False,
        partitions: int = 3,
        client_id: str = "cadrecare",
        consumer_group_prefix: str = "",
    ) -> None:
        self.bootstrap = bootstrap
        self.consumer_group_prefix = consumer_group_prefix
        self.idempotence = idempotence
        self.partitions = partitions
        self.client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def producer(self) -> AIOKafkaProducer:
        """The started producer; raises while the broker is unreachable (callers retry).

        A new producer first makes sure every topic exists with its partition count: a broker that
        lost its topics (the embedded one keeps them in memory) would otherwise auto-create them
        with one partition.
        """
        async with self._lock:
            if self._producer is None:
                await self.ensure_topics([topic.name for topic in ALL_TOPICS])
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    client_id=self.client_id,
                    acks="all",
                    enable_idempotence=self.idempotence,
                    linger_ms=1,
                    request_timeout_ms=5000,
                    retry_backoff_ms=200,
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def reset_producer(self) -> None:
        """Drop the producer after a failure; the next call starts a fresh one."""
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), 5)
            except Exception:
                log.debug("producer stop failed", exc_info=True)

    async def ensure_topics(self, names: list[str]) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=self.client_id, request_timeout_ms=5000)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [NewTopic(name, self.partitions, 1) for name in names if name not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):  # another service created it first
                    await admin.create_topics(missing)
        finally:
            await admin.close()

    async def ping(self, timeout: float = 1.0) -> None:
        host, _, port = self.bootstrap.split(",")[0].rpartition(":")
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
        writer.close()
        await writer.wait_closed()

    async def close(self) -> None:
        await self.reset_producer()
