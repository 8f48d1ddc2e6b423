"""The one clock: instants in UTC, dates as Vietnam has them (Asia/Ho_Chi_Minh, UTC+7, no daylight saving).

Between 00:00 and 07:00 in Vietnam the UTC date is still yesterday's; a board's "today" (a record
dated in the future, a retirement effective today, an appointment) is Vietnam's. Tests replace the
clock with `frozen_at(...)` instead of patching datetime.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

Now = Callable[[], datetime]


def _system_now() -> datetime:
    return datetime.now(UTC)


_now: ContextVar[Now] = ContextVar("servicekit_clock_now", default=_system_now)


def now() -> datetime:
    """This instant, timezone-aware, in UTC."""
    return _now.get()().astimezone(UTC)


def today() -> date:
    """Today's date in Vietnam."""
    return vietnam_date(now())


def vietnam_date(instant: datetime) -> date:
    """The date an instant falls on in Vietnam (a naive instant is read as UTC)."""
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(VIETNAM).date()


@contextmanager
def frozen_at(instant: datetime | Now) -> Iterator[None]:
    """Within the block (and the tasks it starts) the clock reads `instant`, or calls it."""
    reader: Now = instant if callable(instant) else (lambda: instant)
    token = _now.set(reader)
    try:
        yield
    finally:
        _now.reset(token)
