"""How many messages a consumer applies in one transaction: as many as fit in a time budget.

SQLite admits one writer per file, and an API request that writes waits (busy_timeout) for a consumer's
transaction to commit. A batch of 500 slow events (a whole country's units on a loaded machine) held the lock
for over ten seconds: the writes queued behind it failed with "database is locked". Sizing each transaction to
the time its last one took keeps the lock short on any machine, and keeps batches large when handlers are fast.
After a long transaction the consumer also pauses before the next: SQLite's busy handler polls (every 100 ms at
most), and a consumer beginning again at once would win the lock again and again.
"""

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from time import monotonic
from typing import TypeVar

TRANSACTION_BUDGET_SECONDS = 0.5
LARGEST = 2000  # PostgreSQL's transactions (never cut): a rebuild's fixed statements per transaction shared by more events
# On SQLite the size follows the last transaction's time, and on a starved machine the next can take five times
# as long (seen: 134 events in 15 s after 74 in 50 ms): a cap bounds the worst case far below the busy timeout.
SQLITE_LARGEST = 100
PAUSE_AFTER_LONG_SECONDS = 0.15  # longer than the busy handler's longest sleep: a waiting writer gets its turn

Message = TypeVar("Message")


class BatchSizer:
    def __init__(self, budget: float = TRANSACTION_BUDGET_SECONDS, largest: int = LARGEST) -> None:
        self.budget = budget
        self.largest = largest
        self.size = largest
        self.last_was_long = False

    @classmethod
    def for_database(cls, url: str) -> "BatchSizer":
        """PostgreSQL locks rows, not the database: there a batch may take as long as it takes."""
        return cls(largest=SQLITE_LARGEST) if url.startswith("sqlite") else cls(budget=math.inf)

    def took(self, count: int, seconds: float) -> None:
        """Size the next transaction from the last one: proportionally smaller over the budget, double under half."""
        self.last_was_long = seconds > self.budget / 2
        if seconds > self.budget:
            self.size = max(1, int(count * self.budget / seconds))
        elif seconds < self.budget / 2 and count >= self.size:
            self.size = min(self.largest, self.size * 2)


async def in_transactions(
    messages: Sequence[Message],
    sizer: BatchSizer,
    apply: Callable[[Sequence[Message]], Awaitable[None]],
    clock: Callable[[], float] = monotonic,
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """`apply` the messages in order, in slices the sizer allows, each slice one transaction."""
    start = 0
    while start < len(messages):
        if sizer.last_was_long:
            await pause(PAUSE_AFTER_LONG_SECONDS)
        chunk = messages[start : start + sizer.size]
        began = clock()
        await apply(chunk)
        sizer.took(len(chunk), clock() - began)
        start += len(chunk)
