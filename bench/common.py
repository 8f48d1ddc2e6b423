"""What several benchmarks share."""

import time
from collections.abc import Awaitable, Callable

import httpx


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank (p in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def timed(samples: int, call: Callable[[int], Awaitable[httpx.Response]]) -> list[float]:
    """Seconds each of `samples` calls took (call i gets i); every answer must be a success."""
    durations = []
    for i in range(samples):
        started = time.perf_counter()
        answer = await call(i)
        durations.append(time.perf_counter() - started)
        assert answer.status_code < 300, answer.text[:300]
    return durations
