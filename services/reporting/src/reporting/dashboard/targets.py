"""The dashboard's rules, no I/O: the period compared with, a rate's band against the target, a change."""

from datetime import date, timedelta

from contracts.api.dashboard import Band, CoverageTarget


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _first_of(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period as long just before this one: whole months for a period of whole months (the first half
    of 2023 is compared with the second half of 2022), else the same number of days."""
    previous_end = start - timedelta(days=1)
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = _month_index(end) - _month_index(start) + 1
        return _first_of(_month_index(start) - months), previous_end
    return previous_end - (end - start), previous_end


def band(rate: float | None, target: CoverageTarget) -> Band | None:
    """Green at or above the target, amber up to `amber_margin` points below it, red lower; None when unknown."""
    if rate is None:
        return None
    if rate >= target.target:
        return Band.GREEN
    return Band.AMBER if rate >= target.target - target.amber_margin else Band.RED


def change(current: float | None, previous: float | None) -> float | None:
    """current - previous, rounded to the rates' two decimals; unknown when either is."""
    if current is None or previous is None:
        return None
    return round(current - previous, 2)


def ancestors(path: str) -> list[str]:
    """VN.68.24781 -> [VN, VN.68, VN.68.24781]: the breadcrumbs' paths."""
    parts = path.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]
