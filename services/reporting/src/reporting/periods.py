"""The period every figure covers, shared by the dashboard, the board reports and the roll-up: its query
parameters, its defaults and its checks. "Today" is Vietnam's date: figures exist up to it."""

from datetime import date
from typing import Annotated

from fastapi import Query

from reporting.domain import period_problems
from servicekit import clock
from servicekit.errors import Refused, field_error

NO_DATA = "Không có dữ liệu cho kỳ này / No data for this period: no cadre, invitation or record in scope."

StartQuery = Annotated[date | None, Query(description="first day of the period (default: 1 January of the end's year)")]
EndQuery = Annotated[date | None, Query(description="last day of the period (default: today, or as_of)")]
AsOfQuery = Annotated[date | None, Query(description="the date counts hold on; the period's end when no end is given")]


def check_period(start: date, end: date, as_of: date | None = None) -> None:
    problems = period_problems(start, end, as_of, clock.today())
    if problems:
        raise Refused(
            problems[0][1], errors=[field_error(["query", field], reason) for field, reason in problems], code="invalid_period"
        )


def period_of(start: date | None, end: date | None, as_of: date | None = None) -> tuple[date, date]:
    """The period asked for, its gaps filled: it ends today (or on `as_of`) and starts on 1 January of that year."""
    last = end or as_of or clock.today()
    first = start or date(last.year, 1, 1)
    check_period(first, last, as_of)
    return first, last
