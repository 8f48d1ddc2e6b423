"""The runtime's own tables, defined on each service's metadata: outbox, processed events, consumer positions,
the broker the outbox last published to, and the answers stored for Idempotency-Keys.

Core `Table`s rather than SQLModel classes, so that every service can carry them in its own
MetaData (and its own Alembic history) without the services sharing one registry.
"""

from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for a long-lived outbox.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class KitTables:
    outbox: Table
    processed_events: Table
    consumer_positions: Table
    relay_state: Table
    idempotency_keys: Table


def kit_tables(metadata: MetaData) -> KitTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("headers", JSON, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True, index=True),
    )
    processed_events = Table(
        "processed_events",
        metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(100), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("outcome", String(20), nullable=False),  # applied | dead_lettered
        Column("error", Text, nullable=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("consumer", "event_id", name="uq_processed_events_consumer_event"),
    )
    consumer_positions = Table(
        "consumer_positions",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("topic", String(200), primary_key=True),
        Column("partition", Integer, primary_key=True),
        Column("next_offset", BigInteger, nullable=False),
        # The broker log the offset belongs to: a position is meaningless in another cluster's log
        # (a restarted memory-only broker starts again at offset 0).
        Column("cluster_id", String(200), nullable=True),
    )
    relay_state = Table(
        "relay_state",
        metadata,
        Column("relay", String(100), primary_key=True),
        # The cluster that holds the outbox rows marked sent; another cluster means they must be sent again.
        Column("cluster_id", String(200), nullable=False),
        Column("changed_at", DateTime(timezone=True), nullable=False),
    )
    idempotency_keys = Table(
        "idempotency_keys",
        metadata,
        Column("owner", String(200), primary_key=True),  # the caller's subject: keys are per caller
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("media_type", String(100), nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    return KitTables(outbox, processed_events, consumer_positions, relay_state, idempotency_keys)
