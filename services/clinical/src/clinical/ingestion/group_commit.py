"""Group commit of single HIS records: the records posted one per request while a write is under way are
written together, in one transaction with one statement per table and one outbox insert, and each request
is answered with its own item's outcome.

Why: a single POST spent most of its CPU on the transaction around it (BEGIN, the lock, the reads, three
INSERTs, COMMIT: each a round trip to the database thread), not on the record. No delay is added: the first
record after a quiet spell is written at once; the ones that arrive while it is being written wait for it
and go together next (at most `max_items` at a time).

The outcome of each item is what it would have been posted alone in arrival order: the batch goes through
the same Ingestion as a bulk, whose items see the ones before them (the same record twice: created, then
existed), and the events are appended in arrival order (the order per cadre is kept). If a batch fails as a
whole, each of its items is tried again alone, so one bad item fails only its own request.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from clinical.domain import RecordIn
from clinical.ingestion.service import Ingestion, parsed
from contracts.api.clinical import BulkItemResult
from contracts.scope import Principal
from servicekit.db import Database
from servicekit.outbox import Outbox


@dataclass
class Pending:
    principal: Principal
    item: RecordIn  # not a movement: a bulk applies those after its records, whatever the order
    answer: "asyncio.Future[BulkItemResult]"


class GroupCommit:
    def __init__(self, db: Database, outbox: Outbox, *, max_items: int = 200) -> None:
        self.db = db
        self.outbox = outbox
        self.max_items = max_items
        self._queue: list[Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # transactions written, for the tests and the benchmarks

    async def post(self, principal: Principal, item: RecordIn) -> BulkItemResult:
        """The item's outcome once the transaction that wrote it (or found it refused) has committed."""
        answer: asyncio.Future[BulkItemResult] = asyncio.get_running_loop().create_future()
        self._queue.append(Pending(principal, item, answer))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="clinical-group-commit")
        # shielded: a caller that goes away (a client's timeout) leaves its item to the batch it is in
        return await asyncio.shield(answer)

    async def _write_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_items], self._queue[self.max_items :]
            try:
                await self._write(batch)
            except Exception as exc:  # noqa: BLE001 - one item may be the cause: each alone, its own error
                if len(batch) == 1:
                    _fail(batch[0], exc)
                    continue
                for pending in batch:
                    await self._write_alone(pending)

    async def _write_alone(self, pending: Pending) -> None:
        try:
            await self._write([pending])
        except Exception as exc:  # noqa: BLE001 - handed to the request that posted it
            _fail(pending, exc)

    async def _write(self, batch: Sequence[Pending]) -> None:
        by_principal: dict[Principal, list[Pending]] = {}
        for pending in batch:
            by_principal.setdefault(pending.principal, []).append(pending)
        outcomes: list[tuple[Pending, BulkItemResult]] = []
        self.batches += 1
        async with self.db.transaction() as session:
            for principal, group in by_principal.items():
                items = [parsed(index, pending.item) for index, pending in enumerate(group)]
                results = await Ingestion(session, self.outbox, principal).run(items, store=True)
                outcomes += zip(group, results, strict=True)
        for pending, result in outcomes:  # only once committed: an answer promises the record is stored
            if not pending.answer.done():
                pending.answer.set_result(result)


def _fail(pending: Pending, exc: Exception) -> None:
    if not pending.answer.done():
        pending.answer.set_exception(exc)
