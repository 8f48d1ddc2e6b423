"""The one retry policy: the waits workers take between tries, the handler retries, "at most every n seconds"."""

import pytest

from servicekit.retry import Backoff, Every, retried


def test_a_worker_waits_doubling_from_its_first_wait_up_to_the_cap_and_starts_again_after_a_success() -> None:
    backoff = Backoff(0.5)
    assert [backoff.failed() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert [backoff.failed() for _ in range(2)] == [0.5, 1.0]
    relay = Backoff(0.2)
    assert [relay.failed() for _ in range(7)] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])


class Flaky(Exception):
    pass


class Hopeless(Exception):
    pass


async def run(retrying_fails: list[BaseException], attempts: int, already_made: int = 0) -> tuple[int, list[int], str]:
    """Tries until success or the policy gives up: (tries made, attempts told of, outcome)."""
    told: list[int] = []
    tries = 0

    async def work() -> None:
        nonlocal tries
        tries += 1
        if retrying_fails:
            raise retrying_fails.pop(0)

    failure = await retried(
        work, attempts, 0.001, already_made=already_made, permanent=Hopeless, after_failure=lambda n, _exc: told.append(n)
    )
    return tries, told, "ok" if failure is None else type(failure).__name__


async def test_a_failing_handler_is_tried_up_to_its_attempts_and_its_last_error_raised_as_is() -> None:
    assert await run([Flaky(), Flaky()], attempts=3) == (3, [1, 2], "ok")
    assert await run([Flaky(), Flaky(), Flaky(), Flaky()], attempts=3) == (3, [1, 2, 3], "Flaky")
    # one attempt already made by the batch path: two more, numbered on from it
    assert await run([Flaky(), Flaky(), Flaky()], attempts=3, already_made=1) == (2, [2, 3], "Flaky")


async def test_a_permanent_error_is_not_tried_again() -> None:
    assert await run([Flaky(), Hopeless(), Flaky()], attempts=5) == (2, [1], "Hopeless")


def test_every_answers_true_at_most_once_a_period_and_again_on_demand() -> None:
    now = [100.0]
    every = Every(1.0, timer=lambda: now[0])
    assert every.due() is True
    assert every.due() is False
    now[0] += 0.99
    assert every.due() is False
    now[0] += 0.01
    assert every.due() is True
    every.again()
    assert every.due() is True
    every.mark()
    now[0] += 0.5
    assert every.due() is False
