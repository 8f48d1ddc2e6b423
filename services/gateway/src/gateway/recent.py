"""A short-lived cache of what the gateway reads per request (principals, grants, break-the-glass accesses,
revocations) whose concurrent misses of one key share one read.

Why: an entry expires for every request in flight at the same moment, and each of them read the database
again (four reads per request in flight every `cache_seconds`, and on SQLite a pool connection, a thread,
for each: 15 % of the gateway's CPU under load). Here the first miss starts the read as a task of its own
and later misses of the same key await it; a caller that goes away does not cancel it for the others.

Invalidation (a grant revoked, a principal disabled) drops the entry and forgets a read in flight: a request
after it starts a fresh read, and the forgotten read's result is not cached.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from cachetools import TTLCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    def __init__(self, *, maxsize: int, ttl: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._cache: TTLCache[K, V] = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)
        self._reading: dict[K, asyncio.Task[V]] = {}
        self._generation = 0

    async def get(self, key: K, read: Callable[[K], Awaitable[V]]) -> V:
        """The cached value of `key`, else what `read(key)` answers (one read for all concurrent misses)."""
        try:
            return self._cache[key]  # one lookup: a TTL entry can expire between an `in` and a `[]`
        except KeyError:
            pass
        task = self._reading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._read(key, read, self._generation))
            self._reading[key] = task
        return await asyncio.shield(task)

    async def _read(self, key: K, read: Callable[[K], Awaitable[V]], generation: int) -> V:
        try:
            value = await read(key)
            if generation == self._generation:  # not invalidated meanwhile
                self._cache[key] = value
            return value
        finally:
            if self._reading.get(key) is asyncio.current_task():
                del self._reading[key]

    def put(self, key: K, value: V) -> None:
        self._cache[key] = value

    def invalidate(self, key: K | None = None) -> None:
        self._generation += 1
        if key is None:
            self._cache.clear()
            self._reading.clear()
        else:
            self._cache.pop(key, None)
            self._reading.pop(key, None)
