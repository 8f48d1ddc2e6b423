"""The gateway's per-request cache (gateway.recent): one read per period for every key in use."""

import asyncio
from collections.abc import Collection

import pytest

from gateway.recent import BATCH_LARGEST, Recent


class Reads:
    """A reader that records which keys each read was asked for; values are '<key>-<read number>'."""

    def __init__(self) -> None:
        self.asked: list[set[str]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, keys: Collection[str]) -> dict[str, str]:
        self.asked.append(set(keys))
        number = len(self.asked)
        await self.release.wait()
        return {key: f"{key}-{number}" for key in keys}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def periodic(maxsize: int = 100) -> tuple[Reads, Clock, Recent[str, str]]:
    """A cache of 2 s periods on a clock the test moves."""
    reads, clock = Reads(), Clock()
    return reads, clock, Recent(reads, maxsize=maxsize, ttl=2, timer=clock)


@pytest.mark.parametrize("cancel_first", [False, True])
async def test_concurrent_misses_of_a_key_share_one_read(cancel_first: bool) -> None:
    reads = Reads()
    cache: Recent[str, str] = Recent(reads, maxsize=10, ttl=60)
    reads.release.clear()
    first = asyncio.ensure_future(cache.get("a"))
    second = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0)
    if cancel_first:
        first.cancel()  # the caller that started the read goes away: the others still get it
    reads.release.set()
    assert await second == "a-1" and reads.asked == [{"a"}]
    assert await cache.get("a") == "a-1"  # kept for the period


async def test_an_invalidated_read_in_flight_is_forgotten() -> None:
    reads = Reads()
    cache: Recent[str, str] = Recent(reads, maxsize=10, ttl=60)
    reads.release.clear()
    stale = asyncio.ensure_future(cache.get("b"))
    await asyncio.sleep(0)
    cache.invalidate("b")  # e.g. a grant revoked while b's read was in flight
    fresh = asyncio.ensure_future(cache.get("b"))
    await asyncio.sleep(0)
    reads.release.set()
    assert await stale == "b-1" and await fresh == "b-2"
    assert await cache.get("b") == "b-2"  # the read started after the invalidation is the one kept
    cache.invalidate()
    assert await cache.get("b") == "b-3"


async def test_every_key_in_use_is_refreshed_by_one_read_per_period() -> None:
    reads, clock, cache = periodic()
    for user in ("u1", "u2", "u3"):
        assert await cache.get(user) == f"{user}-{len(reads.asked)}"
    assert len(reads.asked) == 3  # their first reads, one each
    assert await cache.get("u1") == "u1-1"  # within the period: no read

    clock.now += 2  # the next period: the first miss reads every key asked for in the last one
    assert await cache.get("u2") == "u2-4"
    assert reads.asked[-1] == {"u1", "u2", "u3"}
    assert await cache.get("u1") == "u1-4" and await cache.get("u3") == "u3-4"
    assert len(reads.asked) == 4


async def test_a_key_unused_for_two_periods_leaves_the_refresh() -> None:
    reads, clock, cache = periodic()
    await cache.get("busy")
    await cache.get("gone")
    clock.now += 2
    await cache.get("busy")  # refreshes both: both were asked for in the last period
    assert reads.asked[-1] == {"busy", "gone"}
    clock.now += 2
    await cache.get("busy")  # "gone" skipped one period: still refreshed with the others
    assert reads.asked[-1] == {"busy", "gone"}
    clock.now += 2
    await cache.get("busy")  # "gone" was not asked for during the last two periods
    assert reads.asked[-1] == {"busy"}
    clock.now += 10  # idle for whole periods: the last active periods' keys are read with the first miss
    await cache.get("other")
    assert reads.asked[-1] == {"other", "busy"}
    assert await cache.get("busy") == f"busy-{len(reads.asked)}"
    assert len(reads.asked) == 6  # "busy" came with "other"


async def test_values_expire_at_the_end_of_their_period() -> None:
    _, clock, cache = periodic()
    clock.now = 1001.9  # late in a period: the value lasts only to its end
    assert await cache.get("a") == "a-1"
    clock.now = 1002.0
    assert await cache.get("a") == "a-2"


async def test_no_caching_with_a_zero_period() -> None:
    reads = Reads()
    cache: Recent[str, str] = Recent(reads, maxsize=100, ttl=0)
    assert [await cache.get("a") for _ in range(3)] == ["a-1", "a-2", "a-3"]
    assert reads.asked == [{"a"}, {"a"}, {"a"}]


async def test_a_refresh_reads_at_most_a_batch_at_a_time() -> None:
    reads, clock, cache = periodic(maxsize=10_000)
    keys = [f"k{n}" for n in range(BATCH_LARGEST + 20)]
    for key in keys:
        await cache.get(key)
    clock.now += 2
    before = len(reads.asked)
    for key in keys:
        await cache.get(key)
    sizes = [len(asked) for asked in reads.asked[before:]]
    assert max(sizes) == BATCH_LARGEST and sum(sizes) == len(keys)
    assert len(sizes) == 2


async def test_invalidating_one_key_keeps_the_rest_of_its_read() -> None:
    reads, clock, cache = periodic()
    await cache.get("u1")
    await cache.get("u2")
    clock.now += 2
    reads.release.clear()
    refresh = asyncio.ensure_future(cache.get("u1"))  # reads u1 and u2 together
    await asyncio.sleep(0)
    cache.invalidate("u2")  # e.g. u2's grant revoked meanwhile
    reads.release.set()
    assert await refresh == "u1-3" and reads.asked[-1] == {"u1", "u2"}
    assert await cache.get("u1") == "u1-3"  # kept
    assert await cache.get("u2") == "u2-4"  # read again: the value read before the change is not kept
