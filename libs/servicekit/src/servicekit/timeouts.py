"""Bounded waits that never lose a cancellation.

On Python 3.11, `asyncio.wait_for` returns the awaited call's result instead of raising when a cancellation
reaches the waiting task just as that call completes (CPython gh-86296, fixed in 3.12): the task goes on as if
it had never been cancelled, and whoever cancelled it and then awaits it waits for ever. A consumer asks the
broker for its cluster id every second, so the one cancellation a rebuild's catch-up sends it at the end could
land there: the consumer went on consuming and the catch-up waited for it until the test's five-minute timeout.
`asyncio.timeout` runs the call in the waiting task itself, so a cancellation is raised wherever it lands.
"""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(seconds: float, awaitable: Awaitable[T]) -> T:
    """`await awaitable`, raising TimeoutError after `seconds` (what `asyncio.wait_for` does, without its window)."""
    async with asyncio.timeout(seconds):
        return await awaitable
