"""Where a consumer is in each partition's log, kept in the consumer's own database and written in the
same transaction as the effects, with the cluster id of the log the offset belongs to."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import ConsumerRebalanceListener, TopicPartition
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.db import Database
from servicekit.sql import upsert_many
from servicekit.tables import KitTables

Partition = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True)
class Mark:
    next_offset: int
    cluster_id: str | None  # None: written before positions named their log


class StoredPositions:
    def __init__(self, db: Database, tables: KitTables, consumer: str) -> None:
        self.db = db
        self.table = tables.consumer_positions
        self.consumer = consumer

    async def marks(self) -> dict[Partition, Mark]:
        table = self.table
        async with self.db.read() as session:
            rows = await session.execute(
                select(table.c.topic, table.c.partition, table.c.next_offset, table.c.cluster_id).where(
                    table.c.consumer == self.consumer
                )
            )
            return {(row.topic, row.partition): Mark(row.next_offset, row.cluster_id) for row in rows}

    async def write(self, session: AsyncSession, partition: Partition, next_offset: int, cluster_id: str | None) -> None:
        await self.write_many(session, {partition: next_offset}, cluster_id)

    async def write_many(self, session: AsyncSession, next_offsets: dict[Partition, int], cluster_id: str | None) -> None:
        """The positions of several partitions in one statement (a batch may span every partition of a consumer)."""
        rows = [
            {"consumer": self.consumer, "topic": topic, "partition": number, "next_offset": offset, "cluster_id": cluster_id}
            for (topic, number), offset in next_offsets.items()
        ]
        await upsert_many(session, self.table, rows, keys=("consumer", "topic", "partition"))


class SeekOnAssign(ConsumerRebalanceListener):  # type: ignore[misc]
    """In a consumer group: every partition this replica is given starts at its stored position."""

    def __init__(self, seek: Callable[[list[TopicPartition]], Awaitable[None]]) -> None:
        self.seek = seek

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self.seek(list(assigned))
