"""The idempotent consumer.

Each message is handled in one database transaction that also records the event id (so a redelivered
event is skipped) and the consumer's next offset (so a restart resumes exactly there). A crash anywhere
before the commit loses nothing and doubles nothing: the transaction never happened.

A single instance (embedded default, tests) assigns itself every partition and seeks to the positions
stored in its own database: no group coordination. With `group_id` set, replicas share partitions through
a consumer group and seek to the stored positions on every assignment. A message that keeps failing goes
to `<topic>.dlq` with its error (servicekit.retry: how often it is tried); its partition moves on.

A stored position belongs to one broker log, named by the cluster id written beside it. A position from
another cluster (the embedded broker restarted empty) is not trusted; nor, while running, is a position
past the end of the log (a topic recreated). The consumer says so in the log and reads those partitions
from the beginning, skipping the event ids already applied: nothing is missed and nothing doubled. It
asks for the cluster at most once a second, so a broker replaced under it is noticed too.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events import UnknownEventType, parse_payload
from contracts.topics import topic_of
from servicekit.batch_sizing import LARGEST, BatchSizer, in_transactions
from servicekit.broker import Broker, being_cancelled
from servicekit.consumer_log import log_applied
from servicekit.db import Database
from servicekit.logs import correlated
from servicekit.metrics import EVENTS_CONSUMED
from servicekit.positions import SeekOnAssign, StoredPositions
from servicekit.retry import Backoff, Every, retried
from servicekit.sql import insert_ignoring_duplicates
from servicekit.tables import KitTables
from servicekit.timeouts import within

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, EventEnvelope, Any], Awaitable[None]]
# Called once per batch, before its handlers, with the events they will get: reads ahead in one query per batch
# what each handler would otherwise look up per event. Not called on the one-by-one path (handlers then look up).
BatchStep = Callable[[AsyncSession, list[tuple[EventEnvelope, Any]]], Awaitable[None]]
ApplyRun = BatchStep  # the same shape: a session and consecutive events, applied in one call


class RunHandler:
    """A handler that applies a run of consecutive events in one call: a set-based projection (one executemany
    for the run, one read ahead for all its keys) instead of a statement or two per event. In a batch, the events
    in a row that map to the same RunHandler reach it together, in order; on the one-by-one path it gets one."""

    def __init__(self, apply: ApplyRun) -> None:
        self.apply = apply

    async def __call__(self, session: AsyncSession, envelope: EventEnvelope, payload: Any) -> None:
        await self.apply(session, [(envelope, payload)])


def in_runs(
    handler_of: Callable[[EventEnvelope], Handler], batch: Sequence[tuple[int, EventEnvelope, Any]]
) -> Iterator[tuple[Handler, list[tuple[int, EventEnvelope, Any]]]]:
    """The batch cut where the handler changes; each run handled by one RunHandler call, other events alone."""
    run: list[tuple[int, EventEnvelope, Any]] = []
    current: Handler | None = None
    for item in batch:
        handler = handler_of(item[1])
        if run and (handler is not current or not isinstance(handler, RunHandler)):
            assert current is not None
            yield current, run
            run = []
        current = handler
        run.append(item)
    if run:
        assert current is not None
        yield current, run


START_SECONDS = 30.0  # bound on connecting, assigning and seeking
LOG_CHECK_SECONDS = 1.0  # how often a running consumer asks which broker log it is reading
RECONNECT_FIRST_WAIT = 0.5  # seconds before the first reconnection (then doubling, servicekit.retry)
FETCH_RECORDS = LARGEST  # records a getmany may return: on PostgreSQL they are applied in one transaction
LINGER_SECONDS = 0.02  # a fetch of fewer than LINGER_BELOW records waits this long for more (see _fetched)
LINGER_BELOW = 50


def describe(exc: BaseException) -> str:  # an error as the log and the dead letter name it
    return f"{type(exc).__name__}: {exc}"


class PoisonMessage(Exception):
    """A message that no retry can fix: unparseable envelope or payload."""


class BrokerReplaced(Exception):
    """The broker answering now holds another log than the positions were read from."""


class EventConsumer:
    def __init__(
        self,
        name: str,
        db: Database,
        tables: KitTables,
        broker: Broker,
        handlers: Mapping[type[DomainEvent], Handler],
        *,
        max_attempts: int = 3,
        retry_backoff: float = 0.2,
        group_id: str | None = None,
        prepare: BatchStep | None = None,
    ) -> None:
        self.name = name
        self.prepare = prepare
        self.db = db
        self.tables = tables
        self.broker = broker
        self.handlers = {(event.event_type, event.schema_version): handler for event, handler in handlers.items()}
        self.topics = sorted({topic_of(event).name for event in handlers})
        self.max_attempts = max_attempts
        self.positions = StoredPositions(db, tables, name)
        self.retry_backoff = retry_backoff
        self.group_id = group_id or (f"{broker.consumer_group_prefix}{name}" if broker.consumer_group_prefix else None)
        self._consumer: AIOKafkaConsumer | None = None
        self._batch_error = ""
        self._cluster: str | None = None  # the broker log the positions refer to
        self._log_check = Every(LOG_CHECK_SECONDS)
        self._reconnect = Backoff(RECONNECT_FIRST_WAIT)
        self._sizer = BatchSizer.for_database(db.url)  # on SQLite, short enough that API writes never wait long
        # Test seam: called after the effects, before the commit (fault-injection tests raise here).
        self.before_commit: Callable[[EventEnvelope], Awaitable[None]] | None = None

    @property
    def batch_error(self) -> str:  # why the last batch was rolled back (the one-by-one path then decides)
        return self._batch_error

    async def run(self) -> None:
        """Consume forever; reconnects with backoff while the broker is unreachable or was replaced."""
        try:
            while True:
                try:
                    await within(START_SECONDS, self._start())  # a hung start is retried, not waited on
                    self._reconnect.reset()
                    await self._loop()
                except asyncio.CancelledError as exc:
                    if being_cancelled():
                        raise
                    # aiokafka lets a cancellation of its own escape when the broker goes away mid-call
                    reason = f"a broker call was cancelled ({exc!r})"
                except Exception as exc:  # noqa: BLE001 - broker faults: reconnect and resume from stored positions
                    reason = str(exc) or type(exc).__name__
                await self._stop()
                wait = self._reconnect.failed()
                log.warning("consumer %s stopped, restarting in %.1fs: %s", self.name, wait, reason)
                await asyncio.sleep(wait)
        finally:
            await self._stop()

    async def _start(self) -> None:
        await self.broker.ensure_topics(self.topics)
        consumer = AIOKafkaConsumer(
            **self.broker.client_options(f"{self.broker.client_id}-{self.name}"),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=10000,
            fetch_max_wait_ms=100,  # Tansu 0.6 ends a waiting fetch then, not when a record comes: 500 gave p99 lag 278 ms
        )
        await consumer.start()
        self._consumer = consumer
        self._cluster = await self.broker.cluster_id()
        self._log_check.mark()
        if self.group_id:
            consumer.subscribe(self.topics, listener=SeekOnAssign(self.seek_to_stored))
            return
        await consumer.topics()  # refreshes the cluster metadata, so every partition is known
        partitions = [
            TopicPartition(topic, partition)
            for topic in self.topics
            for partition in sorted(consumer.partitions_for_topic(topic) or {0})
        ]
        consumer.assign(partitions)
        await self.seek_to_stored(partitions)

    async def seek_to_stored(self, partitions: list[TopicPartition]) -> None:
        """Resume where this consumer stopped, where that position belongs to the log the broker has now."""
        assert self._consumer is not None
        stored = await self.positions.marks()
        untrusted: list[str] = []
        for tp in partitions:
            mark = stored.get((tp.topic, tp.partition))
            if mark is not None and mark.cluster_id == self._cluster:
                self._consumer.seek(tp, mark.next_offset)
                continue
            if mark is not None:
                untrusted.append(f"{tp.topic}:{tp.partition} at {mark.next_offset} (of cluster {mark.cluster_id})")
            await self._consumer.seek_to_beginning(tp)
        if untrusted:
            reason = f"stored positions not in the broker's log (cluster {self._cluster}), reading from the beginning"
            log.warning("consumer %s: %s and skipping events already applied: %s", self.name, reason, "; ".join(untrusted))

    async def stored_positions(self) -> dict[tuple[str, int], int]:
        return {partition: mark.next_offset for partition, mark in (await self.positions.marks()).items()}

    def log_ends(self) -> dict[tuple[str, int], int]:
        """Each partition's log end as its last fetch answer gave it (the high watermark); one not fetched yet is
        absent. The embedded broker answers ListOffsets short of the end, but fetches right."""
        consumer = self._consumer
        if consumer is None:
            return {}
        ends = ((tp, consumer.highwater(tp)) for tp in consumer.assignment())
        return {(tp.topic, tp.partition): end for tp, end in ends if end is not None}

    async def _check_log(self, *, idle: bool) -> bool:
        """Whether positions had to move back because the broker's log changed (at most one look a second).

        Another cluster id raises BrokerReplaced: `run` starts again from the new broker's metadata
        (topics, partitions) and the stored positions, which then belong to another log. Idle with a
        position past the log's end (a topic recreated): that partition is read from the beginning.
        Either way the events already applied are skipped by id.
        """
        assert self._consumer is not None
        if not self._log_check.due():
            return False
        cluster = await self.broker.cluster_id()
        if cluster != self._cluster:
            raise BrokerReplaced(f"the broker's log changed (cluster {cluster}, was {self._cluster})")
        if not idle:
            return False
        # The high watermark of the last fetch answer, not ListOffsets: the embedded broker answers
        # that with the end of the last batch's first record.
        behind = [
            tp
            for tp in sorted(self._consumer.assignment())
            if (log_end := self._consumer.highwater(tp)) is not None and await self._consumer.position(tp) > log_end
        ]
        if behind:
            log.warning(
                "consumer %s: positions past the end of the log (topic recreated?), reading from the beginning: %s",
                self.name,
                ", ".join(f"{tp.topic}:{tp.partition}" for tp in behind),
            )
            await self._consumer.seek_to_beginning(*behind)
        return bool(behind)

    async def _stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                await within(5, consumer.stop())
            except asyncio.CancelledError:
                if being_cancelled():
                    raise
                log.debug("consumer stop was cancelled under it", exc_info=True)
            except Exception:
                log.debug("consumer stop failed", exc_info=True)

    async def _loop(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._fetched()
            if await self._check_log(idle=not batches):
                continue  # positions moved back; what was just fetched comes again in order
            # Every partition's records in one run of transactions (each partition's in its order): a backlog spread
            # over many partitions (a rebuild reads 18 at once) shares each transaction's fixed statements.
            messages = [message for partition in batches.values() for message in partition]
            await in_transactions(messages, self._sizer, self._apply_or_one_by_one)

    async def _fetched(self) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        """The next records, by partition. A trickle (single HIS posts, a few events a fetch) lingers a moment for
        what follows, like a producer's linger: each transaction's fixed work (claim, positions, a projection's
        reads, the commit) then serves several events instead of one or two, at the cost of LINGER_SECONDS of lag."""
        assert self._consumer is not None
        batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]
        batches = await self._consumer.getmany(timeout_ms=200, max_records=FETCH_RECORDS)
        count = sum(map(len, batches.values()))
        if not 0 < count < LINGER_BELOW:
            return batches
        await asyncio.sleep(LINGER_SECONDS)
        more: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]
        more = await self._consumer.getmany(timeout_ms=0, max_records=FETCH_RECORDS - count)
        for partition, records in more.items():  # each partition's records follow on from its first ones
            batches.setdefault(partition, []).extend(records)
        return batches

    async def _apply_or_one_by_one(self, messages: Sequence[ConsumerRecord[Any, Any]]) -> None:
        failed_at = await self.apply_batch(list(messages))
        if failed_at is None:
            return
        for index, message in enumerate(messages):
            await self.process(message, attempts_made=1 if index == failed_at else 0)

    async def apply_batch(self, messages: list[ConsumerRecord[Any, Any]]) -> int | None:
        """Apply messages (of one or more partitions, each partition's in order) in one transaction: one commit
        instead of one per message, and the position of each partition they end.

        The batch's event ids are claimed first by one cached INSERT that skips ids already in
        processed_events (a redelivery); only the claimed events reach `prepare`, then their handlers, in order.
        Optimistic: if any message is malformed or its handler fails, the whole batch is rolled
        back and its index returned; the caller then takes the one-by-one path (retries, dead
        letters) for the batch, in order. None means every message was applied (or skipped).
        """
        if not messages:
            return None
        applied: list[EventEnvelope] = []
        failed_at: int | None = 0
        try:
            envelopes = []
            for index, message in enumerate(messages):
                failed_at = index
                envelopes.append(EventEnvelope.from_kafka(list(message.headers), message.value))
            async with self.db.transaction() as session:
                claimed = await self._claim(session, messages, envelopes)
                batch: list[tuple[int, EventEnvelope, Any]] = []
                for index, envelope in enumerate(envelopes):
                    failed_at = index
                    if str(envelope.id) in claimed:
                        claimed.discard(str(envelope.id))  # the same event twice in one batch: applied once
                        batch.append((index, envelope, parse_payload(envelope)))
                if self.prepare is not None and batch:
                    failed_at = batch[0][0]
                    await self.prepare(session, [(envelope, payload) for _, envelope, payload in batch])
                for handler, run in in_runs(self._handler_of, batch):
                    failed_at = run[0][0]
                    await self._handle_run(session, handler, run)
                    applied.extend(envelope for _, envelope, _ in run)
                failed_at = None
                ends = {(message.topic, message.partition): message.offset + 1 for message in messages}
                await self.positions.write_many(session, ends, self._cluster)
                if self.before_commit is not None:
                    await self.before_commit(applied[-1] if applied else envelopes[-1])
        except Exception as exc:  # noqa: BLE001 - the batch is rolled back; one by one decides
            self._batch_error = describe(exc)
            return failed_at if failed_at is not None else 0
        EVENTS_CONSUMED.labels(self.name, "applied").inc(len(applied))
        log_applied(log, self.name, applied)
        return None

    async def _claim(
        self, session: AsyncSession, messages: list[ConsumerRecord[Any, Any]], envelopes: list[EventEnvelope]
    ) -> set[str]:
        """Insert the processed-event rows of every handled event; the ids inserted are those not seen before."""
        rows = [
            self._processed_row(message, str(envelope.id), "applied")
            for message, envelope in zip(messages, envelopes, strict=True)
            if (envelope.type, envelope.schema_version) in self.handlers
        ]
        if not rows:
            return set()
        # one cached statement run over every row (insertmanyvalues), not a multi-row INSERT compiled per batch
        statement = insert_ignoring_duplicates(session, self.tables.processed_events)
        claimed = set(await session.scalars(statement.returning(self.tables.processed_events.c.event_id), rows))
        duplicates = len(rows) - len(claimed)
        if duplicates:
            EVENTS_CONSUMED.labels(self.name, "duplicate").inc(duplicates)
        return claimed

    def _handler_of(self, envelope: EventEnvelope) -> Handler:
        return self.handlers[(envelope.type, envelope.schema_version)]

    async def _handle_run(self, session: AsyncSession, handler: Handler, run: list[tuple[int, EventEnvelope, Any]]) -> None:
        if isinstance(handler, RunHandler):
            with correlated(run[0][1].correlation_id):  # a run handler sets each event's where it matters
                await handler.apply(session, [(envelope, payload) for _, envelope, payload in run])
            return
        for _, envelope, payload in run:
            with correlated(envelope.correlation_id):
                await handler(session, envelope, payload)

    async def process(self, message: ConsumerRecord[Any, Any], attempts_made: int = 0) -> None:
        try:
            envelope = EventEnvelope.from_kafka(list(message.headers), message.value)
        except ValueError as exc:
            await self._dead_letter(
                message, f"{message.topic}:{message.partition}:{message.offset}", f"unparseable envelope: {exc}"
            )
            return
        handler = self.handlers.get((envelope.type, envelope.schema_version))
        with correlated(envelope.correlation_id):
            if handler is None:
                await self._record(message, str(envelope.id), outcome=None)
                return
            await self._handle_with_retries(message, envelope, handler, attempts_made)

    async def _handle_with_retries(
        self, message: ConsumerRecord[Any, Any], envelope: EventEnvelope, handler: Handler, attempts_made: int
    ) -> None:
        error = self._batch_error
        if attempts_made < self.max_attempts:
            work, told = partial(self._apply, message, envelope, handler), partial(self._log_failure, envelope)
            failure = await retried(work, self.max_attempts, self.retry_backoff, attempts_made, PoisonMessage, told)
            if failure is None:
                return
            error = str(failure) if isinstance(failure, PoisonMessage) else describe(failure)
        await self._dead_letter(message, str(envelope.id), error)

    def _log_failure(self, envelope: EventEnvelope, attempt: int, exc: BaseException) -> None:
        log.warning("consumer %s attempt %d failed on %s: %s", self.name, attempt, envelope.id, describe(exc))

    async def _apply(self, message: ConsumerRecord[Any, Any], envelope: EventEnvelope, handler: Handler) -> None:
        processed = self.tables.processed_events
        async with self.db.transaction() as session:
            seen = await session.scalar(
                select(processed.c.id).where(processed.c.consumer == self.name, processed.c.event_id == str(envelope.id))
            )
            if seen is None:
                try:
                    payload = parse_payload(envelope)
                except (UnknownEventType, ValueError) as exc:
                    raise PoisonMessage(f"invalid payload: {exc}") from exc
                await handler(session, envelope, payload)
                row = self._processed_row(message, str(envelope.id), "applied")
                await session.execute(insert(self.tables.processed_events).values(**row))
            else:
                EVENTS_CONSUMED.labels(self.name, "duplicate").inc()
            await self._write_position(session, message)
            if self.before_commit is not None:
                await self.before_commit(envelope)
        if seen is None:
            EVENTS_CONSUMED.labels(self.name, "applied").inc()
            log_applied(log, self.name, [envelope])

    def _processed_row(
        self, message: ConsumerRecord[Any, Any], event_id: str, outcome: str, error: str | None = None
    ) -> dict[str, Any]:
        """The processed_events row that marks one event as handled by this consumer."""
        return {
            "consumer": self.name,
            "event_id": event_id,
            "topic": message.topic,
            "partition": message.partition,
            "offset": message.offset,
            "outcome": outcome,
            "error": error,
            "processed_at": datetime.now(UTC),
        }

    async def _record(
        self, message: ConsumerRecord[Any, Any], event_id: str, outcome: str | None, error: str | None = None
    ) -> None:
        async with self.db.transaction() as session:
            if outcome is not None:  # a redelivered poison message finds its record already there
                row = self._processed_row(message, event_id, outcome, error)
                await session.execute(insert_ignoring_duplicates(session, self.tables.processed_events).values(**row))
            await self._write_position(session, message)

    async def _write_position(self, session: AsyncSession, message: ConsumerRecord[Any, Any]) -> None:
        await self.positions.write(session, (message.topic, message.partition), message.offset + 1, self._cluster)

    async def _dead_letter(self, message: ConsumerRecord[Any, Any], event_id: str, error: str) -> None:
        log.error("consumer %s dead-letters %s: %s", self.name, event_id, error)
        producer = await self.broker.producer()
        headers = [
            *message.headers,
            ("dlq_error", error.encode()[:4000]),
            ("dlq_consumer", self.name.encode()),
            ("dlq_origin", f"{message.topic}:{message.partition}:{message.offset}".encode()),
        ]
        await producer.send_and_wait(f"{message.topic}.dlq", value=message.value, key=message.key, headers=headers)
        await self._record(message, event_id, "dead_lettered", error)
        EVENTS_CONSUMED.labels(self.name, "dead_lettered").inc()
