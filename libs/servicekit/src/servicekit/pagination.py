"""Pagination, once: the query parameters every list takes (and its bounded integer filters), one cap from
settings, and the page it answers.

The cap is the same number in a service's OpenAPI (`le=`), in what the service enforces and in
what the gateway lets through (`MAX_PAGE_SIZE`, which the gateway's limits import).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.common import Page

T = TypeVar("T")
Row = TypeVar("Row")

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class PageParams:
    offset: int = 0
    limit: int = DEFAULT_PAGE_SIZE


MAX_OFFSET = 10_000_000  # far beyond any list; keeps a huge integer from reaching the database

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"items per page, at most {MAX_PAGE_SIZE}")]

# The integer filters lists take, bounded like the page: an unbounded integer reaches SQL, where one beyond
# 64 bits is an overflow (a 500), not an empty list. Bounded here, it is a 422 naming the parameter.
MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_ROUND = 100
YearFilter = Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR, description="a calendar year")]
RoundFilter = Annotated[int | None, Query(ge=1, le=MAX_ROUND, description="a round of an exam plan (1, 2, ...)")]


def page_params(offset: Offset = 0, limit: Limit = DEFAULT_PAGE_SIZE) -> PageParams:
    return PageParams(offset=offset, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]


async def paginate(session: AsyncSession, statement: Select[Any], params: PageParams, to_item: Callable[[Any], T]) -> Page[T]:
    """One page of a (scope-filtered, ordered) statement, with the total it was cut from."""
    total = await session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    rows = (await session.execute(statement.offset(params.offset).limit(params.limit))).all()
    return Page[T](items=[to_item(row) for row in rows], total=total, offset=params.offset, limit=params.limit)


def page_of(items: Sequence[T], total: int, params: PageParams) -> Page[T]:
    """A page built from items already cut (a list computed in Python, a search engine's answer)."""
    return Page[T](items=list(items), total=total, offset=params.offset, limit=params.limit)
