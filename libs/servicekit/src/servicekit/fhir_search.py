"""FHIR search parameter values (https://hl7.org/fhir/R4/search.html) parsed once for every service: dates with
their prefixes and precision, tokens (`system|code`), references (`Type/id` or `id`). A value that does not
parse is a FhirError 400 naming the parameter, never a silent empty result."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from servicekit.clock import VIETNAM
from servicekit.fhir import FhirError

DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")


@dataclass(frozen=True)
class DateSearch:
    """`prefix` and the value's range [start, end) at its own precision (a day, a month, an instant)."""

    prefix: str
    start: datetime
    end: datetime

    def dates(self) -> tuple[date, date]:
        """The range as Vietnam's dates [first, after last), for a date column (an appointment's day)."""
        first = self.start.astimezone(VIETNAM).date()
        after = (self.end - timedelta(microseconds=1)).astimezone(VIETNAM).date() + timedelta(days=1)
        return first, after


def _next_month(year: int, month: int) -> datetime:
    return datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=VIETNAM)


def _range(name: str, text: str) -> tuple[datetime, datetime]:
    """A date without a zone is Vietnam's day (or month, or year); an instant is exact to its second."""
    try:
        if len(text) == 4:
            start = datetime(int(text), 1, 1, tzinfo=VIETNAM)
            return start, start.replace(year=start.year + 1)
        if len(text) == 7:
            year, month = int(text[:4]), int(text[5:7])
            return datetime(year, month, 1, tzinfo=VIETNAM), _next_month(year, month)
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=VIETNAM)
            return start, start + timedelta(days=1)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FhirError(400, "invalid", f"{name}: {text!r} is not a FHIR date or instant", name) from None
    if moment.tzinfo is None:
        raise FhirError(400, "invalid", f"{name}: a time needs its zone (e.g. {text}Z or {text}+07:00)", name)
    precision = timedelta(seconds=1) if moment.microsecond == 0 else timedelta(microseconds=1)
    return moment, moment + precision


def date_search(name: str, raw: str) -> DateSearch:
    prefix, text = (raw[:2], raw[2:]) if raw[:2] in DATE_PREFIXES else ("eq", raw)
    start, end = _range(name, text.strip())
    return DateSearch(prefix, start.astimezone(UTC), end.astimezone(UTC))


def date_searches(name: str, values: Sequence[str]) -> list[DateSearch]:
    """Every occurrence of a date parameter (`date=ge2026-01-01&date=lt2026-02-01`: all must hold)."""
    return [date_search(name, value) for value in values if value]


def date_condition(column: Any, search: DateSearch, *, day_column: bool = False) -> ColumnElement[bool]:
    """Where `column` (an instant, or with `day_column` a date) meets the search, read as FHIR does for a
    value without a range of its own: eq within the range, gt after it, ge from its start, and so on."""
    start: date | datetime
    end: date | datetime
    start, end = search.dates() if day_column else (search.start, search.end)
    conditions: dict[str, ColumnElement[bool]] = {
        "eq": and_(column >= start, column < end),
        "ne": or_(column < start, column >= end),
        "gt": column >= end,
        "sa": column >= end,
        "ge": column >= start,
        "lt": column < start,
        "eb": column < start,
        "le": column < end,
    }
    return conditions[search.prefix]


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system; "" would be "no system", which no CadreCare identifier has
    code: str


def tokens(name: str, raw: str) -> list[Token]:
    """`system|code`, `code` or several of them comma-separated (any one matches)."""
    found = []
    for part in raw.split(","):
        if not part.strip():
            continue
        system, bar, code = part.strip().rpartition("|")
        if bar and not code:
            raise FhirError(400, "not-supported", f"{name}: a system without a value ({part!r}) is not supported", name)
        found.append(Token(system if bar else None, code))
    if not found:
        raise FhirError(400, "invalid", f"{name}: no value", name)
    return found


def reference_ids(name: str, raw: str, resource_type: str) -> list[str]:
    """The ids of `Type/id`, an absolute URL ending in it, or a bare id; several comma-separated."""
    ids = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        pieces = part.rstrip("/").split("/")
        if len(pieces) >= 2 and pieces[-2] != resource_type:
            raise FhirError(400, "invalid", f"{name}: {part!r} is not a {resource_type} reference", name)
        ids.append(pieces[-1])
    if not ids:
        raise FhirError(400, "invalid", f"{name}: no value", name)
    return ids


PAGING = frozenset({"_count", "_offset", "_format"})


def check_parameters(names: Iterable[str], accepted: frozenset[str]) -> None:
    """A parameter the search does not know is a 400 naming it: a search that ignored a filter would answer
    more than was asked (FHIR lets a server refuse instead of ignoring)."""
    for name in names:
        if name in PAGING or name in accepted:
            continue
        known = ", ".join(sorted(accepted | {"_count", "_offset"}))
        problem = "modifiers are not supported" if ":" in name else f"not supported here (supported: {known})"
        raise FhirError(400, "not-supported", f"search parameter {name}: {problem}", name)
