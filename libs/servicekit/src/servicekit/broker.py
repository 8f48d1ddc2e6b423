"""Broker wiring on aiokafka: one producer per process, topic creation, reachability, and which
broker log this is (its cluster id)."""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from contracts.topics import ALL_TOPICS
from servicekit.timeouts import within

log = logging.getLogger(__name__)


# Up to this many bytes of events per partition in one batch (aiokafka's default is 16 KiB, ~35 cadre events): a
# relay's batch then goes out as a few large compressed batches; below Kafka's default 1 MiB message.max.bytes
BATCH_BYTES = 512 * 1024
ADMIN_CALL_SECONDS = 10.0  # bound on a client's start-up and admin calls: a hung broker call becomes a retry

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]


@dataclass(frozen=True)
class BrokerSecurity:
    """How a client proves itself to the broker and protects the bus: plaintext on the embedded broker,
    TLS with SCRAM-SHA-512 users (one per service, with ACLs) on Apache Kafka in production."""

    protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str = ""
    password: str = ""
    ca_file: Path | None = None

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for every aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = create_ssl_context(cafile=str(self.ca_file) if self.ca_file else None)
        if self.protocol.startswith("SASL"):
            options |= {
                "sasl_mechanism": self.sasl_mechanism or "SCRAM-SHA-512",
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        return options


def being_cancelled() -> bool:
    """Whether this task itself was asked to stop, and not a cancellation escaping from an aiokafka
    call when the broker goes away under it (which the workers treat as a broker fault)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


# Producers compress their batches: the embedded broker keeps every batch in memory as it came, so compressed
# relay batches of cadre events cost it an eighth of what they would plain (zstd: 121 instead of 934 bytes an event
# over 1,000,000, Tansu 0.6.0: bench memory); Apache Kafka stores less too. zstd rather than gzip: aiokafka's gzip
# is level 9, 10.7 us of CPU per ~540-byte exam event in batches of 500 against zstd's 1.0, and zstd's batches
# are smaller still (0.165 of plain against 0.183). Every Kafka since 2.1 reads zstd batches, as does Tansu.
Compression = Literal["gzip", "zstd"]
COMPRESSION: Compression = "zstd"


class Broker:
    def __init__(
        self,
        bootstrap: str,
        *,
        idempotence: bool = False,
        partitions: int = 3,
        client_id: str = "cadrecare",
        consumer_group_prefix: str = "",
        security: BrokerSecurity | None = None,
        create_topics: bool = True,
        compression: Compression | None = COMPRESSION,
    ) -> None:
        self.bootstrap = bootstrap
        self.compression = compression
        self.create_topics = create_topics
        self.security = security or BrokerSecurity()
        self.consumer_group_prefix = consumer_group_prefix
        self.idempotence = idempotence
        self.partitions = partitions
        self.client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._admin: AIOKafkaAdminClient | None = None
        self._admin_lock = asyncio.Lock()

    def client_options(self, client_id: str | None = None) -> dict[str, Any]:
        """Where the broker is, who this client is, and how it connects: the same for every client."""
        return {"bootstrap_servers": self.bootstrap, "client_id": client_id or self.client_id, **self.security.client_options()}

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
                    **self.client_options(),
                    acks="all",
                    enable_idempotence=self.idempotence,
                    compression_type=self.compression,
                    max_batch_size=BATCH_BYTES,
                    linger_ms=1,
                    request_timeout_ms=5000,
                    retry_backoff_ms=200,
                )
                try:
                    await within(ADMIN_CALL_SECONDS, producer.start())
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
                await within(5, producer.stop())
            except Exception:
                log.debug("producer stop failed", exc_info=True)

    async def ensure_topics(self, names: list[str]) -> None:
        """Create the missing topics with their partitions (not where topics are declared, e.g. Strimzi's KafkaTopic)."""
        if self.create_topics:
            await within(ADMIN_CALL_SECONDS, self._create_missing(names))

    async def _create_missing(self, names: list[str]) -> None:
        admin = AIOKafkaAdminClient(**self.client_options(), request_timeout_ms=5000)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [NewTopic(name, self.partitions, 1) for name in names if name not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):  # another service created it first
                    await admin.create_topics(missing)
        finally:
            with contextlib.suppress(Exception):
                await within(5, admin.close())

    async def cluster_id(self) -> str:
        """The id of the cluster answering now: it names the log that offsets and "sent" refer to.

        Apache Kafka keeps its id for life; the embedded broker gets a new one at every start, because
        it starts with an empty log (offsets from before mean nothing in it).
        Raises while the broker is unreachable, and after ADMIN_CALL_SECONDS if it does not answer
        (a broker going away mid-handshake must not hold the caller for ever).
        """
        async with self._admin_lock:
            try:
                described = await within(ADMIN_CALL_SECONDS, self._describe_cluster())
            except BaseException:
                admin, self._admin = self._admin, None
                if admin is not None:
                    with contextlib.suppress(Exception):
                        await within(5, admin.close())
                raise
        return str(described.get("cluster_id") or "")

    async def _describe_cluster(self) -> dict[str, Any]:
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(**self.client_options(), request_timeout_ms=5000)
            await self._admin.start()
        described: dict[str, Any] = await self._admin.describe_cluster()
        return described

    async def ping(self, timeout: float = 1.0) -> None:
        host, _, port = self.bootstrap.split(",")[0].rpartition(":")
        _, writer = await within(timeout, asyncio.open_connection(host, int(port)))
        writer.close()
        await writer.wait_closed()

    async def close(self) -> None:
        await self.reset_producer()
        async with self._admin_lock:
            admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()
