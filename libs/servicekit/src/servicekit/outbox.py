"""The transactional outbox: events are rows written in the same transaction as the state change;
a relay publishes them and marks them sent. Nothing is published from a request handler directly.

Sent rows are kept for a retention period (a setting), because "sent" is only true of the broker
that received them: when the relay finds another cluster than the one it last sent to (the embedded
broker keeps its log in memory and starts empty), it sends every retained row again, in order.
Consumers skip what they had already applied by event id.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from contracts.enums import ManagementTier
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.topics import topic_of
from servicekit.broker import Broker, being_cancelled
from servicekit.db import Database, after_commit, is_sqlite
from servicekit.logs import current_correlation_id
from servicekit.metrics import OUTBOX_PUBLISHED, OUTBOX_RELAY_FAILURES
from servicekit.retry import Backoff, Every
from servicekit.sql import copied, dialect_name, upsert
from servicekit.tables import KitTables
from servicekit.timeouts import within

log = logging.getLogger(__name__)


ROWS_PER_INSERT = 1000  # keeps one statement under SQLite's limit of bound parameters
PAYLOAD_COLUMNS = ("event_id", "topic", "key", "headers", "payload", "created_at")
PayloadRow = tuple[str, str, list[list[str]], bytes]  # event id, key, headers, payload: one topic and time per batch


class Outbox:
    def __init__(self, tables: KitTables, source: str) -> None:
        self.table = tables.outbox
        self.relay_state = tables.relay_state
        self.source = source
        self.committed = asyncio.Event()  # wakes the relay as soon as an event is committed

    async def append(
        self,
        session: AsyncSession,
        event: DomainEvent,
        *,
        subject: str,
        managing_unit: str | None = None,
        tier: ManagementTier | None = None,
        key: str | None = None,
    ) -> EventEnvelope:
        [envelope] = await self.append_many(session, [OutgoingEvent(event, subject, managing_unit, tier, key)])
        return envelope

    async def append_many(self, session: AsyncSession, events: Sequence["OutgoingEvent"]) -> list[EventEnvelope]:
        """Outbox rows for many events in one statement, in order (a bulk of a thousand records)."""
        if not events:
            return []
        envelopes = [
            EventEnvelope.wrap(
                outgoing.event,
                source=self.source,
                subject=outgoing.subject,
                correlation_id=current_correlation_id(),
                managing_unit=outgoing.managing_unit,
                tier=outgoing.tier,
            )
            for outgoing in events
        ]
        rows = [
            {
                "event_id": str(envelope.id),
                "topic": topic_of(type(outgoing.event)).name,
                "key": outgoing.key or outgoing.subject,
                "headers": [[name, value.decode()] for name, value in envelope.to_kafka_headers()],
                "payload": envelope.payload_bytes(),
                "created_at": envelope.time,
            }
            for outgoing, envelope in zip(events, envelopes, strict=True)
        ]
        for start in range(0, len(rows), ROWS_PER_INSERT):
            await session.execute(insert(self.table), rows[start : start + ROWS_PER_INSERT])
        self.wake_on_commit(session)
        return envelopes

    async def append_payloads(self, session: AsyncSession, sample: DomainEvent, events: Iterable["RawEvent"]) -> int:
        """Hundreds of thousands of events of one type (a national exam plan) without a pydantic round trip
        each: the headers of one real envelope of `sample`, varied per row. Payloads must already be in the
        JSON shape of `type(sample)`. Returns how many rows were written. On PostgreSQL by COPY (servicekit.sql.copied)."""
        headers, template = self.header_template(sample)
        topic = topic_of(type(sample)).name
        batch: list[PayloadRow] = []
        count = 0
        for raw in events:
            event_id = str(uuid.uuid4())
            varied = {"ce_id": event_id, "ce_subject": raw.subject, "ce_managingunit": raw.managing_unit, "ce_tier": raw.tier}
            row_headers = [
                [name, str(varied[name]) if name in varied else value]
                for name, value in headers
                if not (name in varied and varied[name] is None)
            ]
            batch.append((event_id, raw.subject, row_headers, orjson.dumps(raw.payload)))  # compact UTF-8 JSON
            count += 1
            if len(batch) >= ROWS_PER_INSERT:
                await self._write_payloads(session, topic, template.time, batch)
                batch = []
        if batch:
            await self._write_payloads(session, topic, template.time, batch)
        if count:
            self.wake_on_commit(session)
        return count

    async def _write_payloads(self, session: AsyncSession, topic: str, created_at: datetime, batch: list[PayloadRow]) -> None:
        if dialect_name(session) == "postgresql":
            records = [
                (event_id, topic, key, orjson.dumps(headers).decode(), payload, created_at)
                for event_id, key, headers, payload in batch
            ]
            if await copied(session, self.table, PAYLOAD_COLUMNS, records):
                return
        rows = [
            {"event_id": event_id, "topic": topic, "key": key, "headers": headers, "payload": payload, "created_at": created_at}
            for event_id, key, headers, payload in batch
        ]
        await session.execute(insert(self.table), rows)

    def header_template(self, sample: DomainEvent) -> tuple[list[tuple[str, str]], EventEnvelope]:
        """The headers of one real envelope of `sample` (with every scope key present), for bulk writers."""
        envelope = EventEnvelope.wrap(
            sample,
            source=self.source,
            subject="-",
            correlation_id=current_correlation_id(),
            managing_unit="-",
            tier=ManagementTier.CENTRAL,
        )
        return [(name, value.decode()) for name, value in envelope.to_kafka_headers()], envelope

    def sql_headers(self, sample: DomainEvent, varying: dict[str, str]) -> tuple[str, dict[str, Any], EventEnvelope]:
        """PostgreSQL's `json_build_array(...)` of the headers `append` writes, for INSERT ... SELECT bulk writers:
        the headers named in `varying` come from the given SQL expressions over the selected row, every other one
        is bound from `sample`'s envelope. Returns the SQL, its parameters and the sample's envelope."""
        headers, template = self.header_template(sample)
        params: dict[str, Any] = {}
        pairs = []
        for position, (name, value) in enumerate(headers):
            params[f"h{position}"] = name
            if name in varying:
                pairs.append(f"json_build_array(CAST(:h{position} AS text), {varying[name]})")
            else:
                params[f"v{position}"] = value
                pairs.append(f"json_build_array(CAST(:h{position} AS text), CAST(:v{position} AS text))")
        return f"json_build_array({', '.join(pairs)})", params, template

    def wake_on_commit(self, session: AsyncSession) -> None:
        """The relay publishes as soon as this transaction commits (instead of at its next poll)."""
        after_commit(session, "servicekit.outbox.wake", self.committed.set)


@dataclass(frozen=True)
class RawEvent:
    subject: str
    payload: dict[str, object]
    managing_unit: str | None = None
    tier: str | None = None


@dataclass(frozen=True)
class OutgoingEvent:
    event: DomainEvent
    subject: str
    managing_unit: str | None = None
    tier: ManagementTier | None = None
    key: str | None = None


RELAY_LOCK_KEY = 0x0CADC0DE  # advisory lock id of "the relay of this database"
RELAY_NAME = "outbox"  # the relay_state row of this database's one relay
BROKER_CHECK_SECONDS = 1.0  # how often the relay asks which broker it is talking to
PRUNE_EVERY_SECONDS = 600.0
RETRY_FIRST_WAIT = 0.2  # seconds before the relay's first retry (then doubling, servicekit.retry)
# After a wake-up the relay waits this long for more commits to join its batch. Under 600 single HIS posts a second,
# 25 ms instead of 5 cut the stack's CPU per result by 6% (2.63 -> 2.48 ms on SQLite, interleaved runs of
# `bench clinical`): fewer, larger produce requests, so the broker, reporting and scheduling each handle larger
# batches; the embedded broker's fetch also lists every batch a partition holds (`bench broker_history`), and
# larger batches mean fewer of them. The price is up to 20 ms more event lag (goal p99 <= 500 ms).
RELAY_LINGER_SECONDS = 0.025


def relay_poll_seconds(database_url: str) -> float:
    """The relay's default poll. Its own process's commits wake it at once; the poll finds the rest: on
    PostgreSQL, rows of the replicas that are not the leader; on SQLite (one process) only a command-line tool's.
    Each idle poll is a transaction, so on SQLite it runs rarely (the embedded stack's idle CPU)."""
    return 2.0 if is_sqlite(database_url) else 0.25


class OutboxRelay:
    """Publishes unsent rows in id order (so in order per key), waits for every ack, then marks them sent.

    While the broker is down it retries with exponential backoff; rows stay unsent, nothing is lost.
    A crash between publishing and marking re-publishes those rows: consumers drop the duplicates by event id.
    A broker with another cluster id than the one the sent rows went to gets every retained row again.
    """

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        broker: Broker,
        *,
        poll_seconds: float = 0.25,
        batch_size: int = 500,
        linger_seconds: float = RELAY_LINGER_SECONDS,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.broker = broker
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.linger_seconds = linger_seconds
        self.retention = retention
        self._cluster: str | None = None  # the cluster the sent rows are known to be in
        self._broker_check = Every(BROKER_CHECK_SECONDS)
        self._prune = Every(PRUNE_EVERY_SECONDS)
        self._backoff = Backoff(RETRY_FIRST_WAIT)

    async def run(self) -> None:
        leadership = await self._become_leader()
        try:
            await self._relay_forever()
        finally:
            if leadership is not None:
                await self._resign(leadership)

    async def _resign(self, connection: AsyncConnection) -> None:
        """Give the lock back before the connection returns to the pool: a pooled connection keeps its
        session's advisory locks, and the next relay of this process waited until the pool happened to
        hand it that very connection (seconds, in a test that stops and starts relays)."""
        try:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RELAY_LOCK_KEY})
            await connection.commit()
        except Exception:  # the lock then goes with the connection, closed for real
            log.warning("outbox relay could not give its leadership back", exc_info=True)
            await connection.invalidate()
        finally:
            await connection.close()

    async def _become_leader(self) -> AsyncConnection | None:
        """With replicas on PostgreSQL only one relay publishes (a session advisory lock held for
        its lifetime; if its process dies the lock goes with the connection and another takes over).
        A second relay would keep order per key only by luck. SQLite means a single instance."""
        if is_sqlite(self.db.url):
            return None
        while True:
            try:
                connection = await self.db.engine.connect()
            except Exception:  # the database is unreachable: try again
                log.warning("outbox relay cannot reach its database", exc_info=True)
                await asyncio.sleep(2)
                continue
            try:
                leader = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": RELAY_LOCK_KEY})
                await connection.commit()
            except Exception:  # the database went away: try again
                log.warning("outbox relay could not ask for leadership", exc_info=True)
                leader = False
            if leader:
                return connection
            await connection.close()
            await asyncio.sleep(2)

    async def _relay_forever(self) -> None:
        while True:
            try:
                published = await self.publish_pending()
                self._backoff.reset()
                if published < self.batch_size:
                    await self._wait_for_work()
            except asyncio.CancelledError as exc:
                if being_cancelled():
                    raise
                # aiokafka lets a cancellation of its own escape when the broker goes away mid-call
                await self._after_failure(f"a broker call was cancelled ({exc!r})")
            except Exception as exc:  # noqa: BLE001 - any broker or database fault: retry later
                await self._after_failure(str(exc) or type(exc).__name__)

    async def _after_failure(self, reason: str) -> None:
        OUTBOX_RELAY_FAILURES.inc()
        wait = self._backoff.failed()
        log.warning("outbox relay failed, retrying in %.1fs: %s", wait, reason)
        self._broker_check.again()  # the broker may come back as another one
        await self.broker.reset_producer()
        await asyncio.sleep(wait)

    async def _wait_for_work(self) -> None:
        with contextlib.suppress(TimeoutError):
            await within(self.poll_seconds, self.outbox.committed.wait())
            await asyncio.sleep(self.linger_seconds)
        self.outbox.committed.clear()

    async def follow_broker(self) -> int:
        """Send every retained row again when the broker is not the one they were sent to.

        Asks the broker at most once a second (always after a failure). Returns how many rows were
        marked to be sent again.
        """
        if not self._broker_check.due():
            return 0
        try:
            cluster = await self.broker.cluster_id()
        except BaseException:
            self._broker_check.again()  # not asked after all: ask again at the next call
            raise
        if cluster == self._cluster:
            return 0
        if self._cluster is not None:
            await self.broker.reset_producer()  # a new producer first creates the topics with their partitions
        table, state = self.outbox.table, self.outbox.relay_state
        resent = 0
        async with self.db.transaction() as session:
            known = await session.scalar(select(state.c.cluster_id).where(state.c.relay == RELAY_NAME))
            if known != cluster:
                marked = await session.execute(update(table).where(table.c.sent_at.is_not(None)).values(sent_at=None))
                resent = int(getattr(marked, "rowcount", 0) or 0)
                row = {"relay": RELAY_NAME, "cluster_id": cluster, "changed_at": datetime.now(UTC)}
                await upsert(session, state, row, keys=("relay",))
        if resent:
            log.warning(
                "outbox relay: the broker is cluster %s, not %s that the sent events went to; sending the %d retained"
                " events again (consumers skip what they already applied)",
                cluster,
                known,
                resent,
            )
        self._cluster = cluster
        return resent

    async def prune_sent(self) -> int:
        """Forget sent rows older than the retention period (at most once every ten minutes)."""
        if not self._prune.due():
            return 0
        table = self.outbox.table
        async with self.db.transaction() as session:
            pruned = await session.execute(table.delete().where(table.c.sent_at < datetime.now(UTC) - self.retention))
        return int(getattr(pruned, "rowcount", 0) or 0)

    async def publish_pending(self) -> int:
        await self.follow_broker()
        await self.prune_sent()
        table = self.outbox.table
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(table.c.id, table.c.topic, table.c.key, table.c.headers, table.c.payload)
                    .where(table.c.sent_at.is_(None))
                    .order_by(table.c.id)
                    .limit(self.batch_size)
                )
            ).all()
        if not rows:
            return 0
        producer = await self.broker.producer()
        acks = [
            await producer.send(
                row.topic,
                value=row.payload,
                key=row.key.encode(),
                headers=[(name, value.encode()) for name, value in row.headers],
            )
            for row in rows
        ]
        await within(30, asyncio.gather(*acks))
        async with self.db.transaction() as session:
            await session.execute(update(table).where(table.c.id.in_([row.id for row in rows])).values(sent_at=datetime.now(UTC)))
        OUTBOX_PUBLISHED.inc(len(rows))
        return len(rows)
