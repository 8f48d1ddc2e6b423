"""A consumer's transactions stay within their time budget whatever the handlers cost, and grow back when they are fast."""

from collections.abc import Sequence

from servicekit.batch_sizing import LARGEST, BatchSizer, in_transactions


class SlowClock:
    """Time that passes only as the fake handlers and pauses say: `per_message` seconds for each message applied."""

    def __init__(self, per_message: float) -> None:
        self.now = 0.0
        self.per_message = per_message

    def __call__(self) -> float:
        return self.now


async def test_slow_messages_are_applied_in_transactions_within_the_budget() -> None:
    clock = SlowClock(per_message=0.02)  # 500 of them would hold the write lock for 10 s
    sizer = BatchSizer(budget=0.5, largest=500)
    transactions: list[list[int]] = []

    async def apply(chunk: Sequence[int]) -> None:
        transactions.append(list(chunk))
        clock.now += clock.per_message * len(chunk)

    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)
        clock.now += seconds

    await in_transactions(list(range(1200)), sizer, apply, clock, pause)
    assert [m for chunk in transactions for m in chunk] == list(range(1200))  # each once, in order
    assert transactions[0] == list(range(500))  # the first is sized before anything is known
    assert all(len(chunk) * 0.02 <= 0.5 for chunk in transactions[1:])
    assert len(transactions) < 50  # no collapse to one message per transaction
    assert len(pauses) == len(transactions) - 1  # after each long one, a window for the writers waiting on SQLite


async def test_fast_messages_grow_the_transactions_back_to_the_largest() -> None:
    sizer = BatchSizer(budget=0.5, largest=500)
    sizer.took(500, 5.0)
    assert sizer.size == 50
    for _ in range(5):
        sizer.took(sizer.size, 0.01)
    assert sizer.size == 500
    sizer.took(3, 0.01)  # a short batch (all the broker had) says nothing about a full one
    assert sizer.size == 500 and not sizer.last_was_long


def test_on_postgresql_a_batch_is_never_cut() -> None:
    sizer = BatchSizer.for_database("postgresql+asyncpg://postgres@127.0.0.1:5432/x")
    sizer.took(LARGEST, 30.0)
    assert sizer.size == LARGEST and not sizer.last_was_long
    on_sqlite = BatchSizer.for_database("sqlite+aiosqlite:///x.db")
    assert (on_sqlite.budget, on_sqlite.size) == (0.5, 100)
