"""A short-lived cache of what the gateway reads per request (principals, grants, break-the-glass accesses,
revocations), refreshed for every active key at once.

Why: each of those reads costs the gateway ~1.9 ms of CPU on SQLite (a pool connection and the driver's
thread hops), whatever it reads. Keyed by subject or token and re-read `ttl` seconds after each key's own
read, they made the gateway's CPU per request grow with the number of people using it: 0.46 ms per request
with one user, 0.92-1.15 ms with 100 (four reads per user every 2 s). Here time is cut into periods of `ttl`
seconds and every value expires at the end of its period; the first miss of a period reads, in one query,
its own key and every key asked for during the last two periods anything was asked for. So an active
population costs one read per period per store, and a key those periods did not ask for leaves the refresh.

Concurrent misses of one key share one read, started as a task of its own: a caller that goes away does not
cancel it for the others. Invalidation (a grant revoked, a principal disabled) drops the entry and forgets a
read in flight for it: a request after it starts a fresh read, and the forgotten read's value of that key is
not cached (its other keys' values are).
A value is at most one period (plus the read's own time) old, as with a per-key time to live.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BATCH_LARGEST = 500  # keys in one read (one IN list: well within SQLite's and PostgreSQL's bound parameters)
ReadMany = Callable[[Collection[K]], Awaitable[Mapping[K, V]]]  # must answer every key it is given


class Recent(Generic[K, V]):
    def __init__(
        self, read_many: ReadMany[K, V], *, maxsize: int, ttl: float, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._read_many = read_many
        self._maxsize = maxsize
        self._ttl = ttl
        self._timer = timer
        self._ticks = 0
        self._period = self._now()
        self._values: dict[K, V] = {}  # read during this period
        self._asked: set[K] = set()  # asked for during this period: refreshed together at the next one's first miss
        self._asked_before: set[K] = set()  # during the last active period before this one
        self._refresh: set[K] = set()  # asked for during the last two active periods, not read yet in this one
        self._reading: dict[K, asyncio.Task[Mapping[K, V]]] = {}  # a key leaves it when invalidated

    def _now(self) -> int:
        if self._ttl <= 0:  # nothing is kept: every period ends at once
            self._ticks += 1
            return self._ticks
        return int(self._timer() // self._ttl)

    def _turn(self) -> None:
        period = self._now()
        if period == self._period:
            return
        # The keys of the last two periods anything was asked for, also after idle periods: callers come back
        # together (a dashboard's users after a lull), and one read of them all costs little more than one read of
        # one. Two periods, not one: a caller that skipped a period (one slow page, a period cut by a lull) would
        # otherwise read alone (bench gateway, 100 users: 158 reads of one key per store instead of 100, each
        # user's first).
        if self._ttl > 0 and self._asked:
            self._refresh = self._asked | self._asked_before
            self._asked_before = self._asked
        self._period = period
        self._asked = set()
        self._values = {}

    async def get(self, key: K) -> V:
        """The value of `key` read during this period, else read now (with the keys due for a refresh)."""
        self._turn()
        if len(self._asked) < self._maxsize:
            self._asked.add(key)
        try:
            return self._values[key]
        except KeyError:
            pass
        task = self._reading.get(key)
        if task is None:
            keys = {key}
            while self._refresh and len(keys) < BATCH_LARGEST:
                due = self._refresh.pop()
                if due not in self._values and due not in self._reading:
                    keys.add(due)
            task = asyncio.ensure_future(self._read(keys))
            self._reading.update(dict.fromkeys(keys, task))
        return (await asyncio.shield(task))[key]

    async def _read(self, keys: set[K]) -> Mapping[K, V]:
        task = asyncio.current_task()
        try:
            values = await self._read_many(keys)
            if len(self._values) < self._maxsize:
                self._values.update((k, values[k]) for k in keys if self._reading.get(k) is task)  # not invalidated
            return values
        finally:
            for k in keys:
                if self._reading.get(k) is task:
                    del self._reading[k]

    def invalidate(self, key: K | None = None) -> None:
        if key is None:
            self._values.clear()
            self._reading.clear()
        else:
            self._values.pop(key, None)
            self._reading.pop(key, None)
