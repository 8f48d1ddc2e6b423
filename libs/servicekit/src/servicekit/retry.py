"""The platform's one retry policy, on tenacity, and its one "at most every n seconds", on cachetools.

- A long-running worker (the outbox relay, a consumer) that loses its broker or database tries again
  after a doubling wait, capped at MAX_WAIT seconds, and starts from the first wait after a success:
  `Backoff`. So does a SQLite writer that finds the write lock taken (servicekit.sqlite_inline), with
  millisecond waits.
- An event handler that fails is tried again a few times, waiting a little longer each time, before
  its message is dead-lettered; a message that no retry can fix is not tried again: `retried`.
- A question worth asking at most every so often (which broker log is this?) is asked again only
  once its answer has expired: `Every`.
"""

import time
from collections.abc import Awaitable, Callable

from cachetools import TTLCache
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_incrementing,
)

MAX_WAIT = 5.0  # seconds: a worker notices a broker that came back within this


class Backoff:
    """The waits of a worker between failed tries: `first`, then doubling up to `cap`; `reset` after a success.

    The wait is tenacity's exponential wait evaluated on the number of failures in a row, because the
    worker's own loop (not tenacity's) decides what counts as a success: a consumer that connected and
    then lost the broker starts again from the first wait.
    """

    def __init__(self, first: float, cap: float = MAX_WAIT) -> None:
        self.first = first
        self._wait = wait_exponential(multiplier=first, max=cap)
        self._failures = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]

    def reset(self) -> None:
        self._failures.attempt_number = 1

    def failed(self) -> float:
        """The seconds to wait after one more failure in a row."""
        seconds = float(self._wait(self._failures))
        self._failures.attempt_number += 1
        return seconds


async def retried(
    work: Callable[[], Awaitable[None]],
    attempts: int,
    step: float,
    already_made: int,
    permanent: type[Exception],
    after_failure: Callable[[int, BaseException], None],
) -> Exception | None:
    """Runs `work` up to `attempts` times in all (`already_made` of them elsewhere; at least once more),
    waiting `step` × the attempt's number after each failure; a `permanent` error ends it at once.
    Returns None once it succeeded, else its last error. `after_failure(attempt number, error)` is told
    of every failed try but a permanent one."""

    def tell(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if error is not None:
            after_failure(already_made + state.attempt_number, error)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(attempts - already_made, 1)),
        wait=wait_incrementing(start=step * (already_made + 1), increment=step),
        retry=retry_if_not_exception_type(permanent),
        after=tell,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                await work()
    except Exception as exc:  # noqa: BLE001 - the caller decides what a last error means
        return exc
    return None


class Every:
    """True at most once every `seconds` (the first time, and again once the last True has expired).

    `timer` is injectable for tests; `again` makes the next call True whatever the time, `mark` counts
    a True as given now."""

    def __init__(self, seconds: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._asked: TTLCache[str, bool] = TTLCache(maxsize=1, ttl=seconds, timer=timer)

    def due(self) -> bool:
        if "asked" in self._asked:
            return False
        self.mark()
        return True

    def mark(self) -> None:
        self._asked["asked"] = True

    def again(self) -> None:
        self._asked.clear()
