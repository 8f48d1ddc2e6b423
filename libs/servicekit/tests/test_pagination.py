"""Pagination, once: the cap is declared and enforced the same, and a page counts what it was cut from."""

import httpx
from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from contracts.api.common import Page
from servicekit.pagination import MAX_OFFSET, MAX_PAGE_SIZE, PageDep, PageParams, paginate

metadata = MetaData()
numbers = Table("numbers", metadata, Column("n", Integer, primary_key=True))


def app_listing(items: int) -> FastAPI:
    app = FastAPI()

    @app.get("/numbers", response_model=Page[int])
    async def listing(page: PageDep) -> Page[int]:
        return Page[int](
            items=list(range(page.offset, min(items, page.offset + page.limit))),
            total=items,
            offset=page.offset,
            limit=page.limit,
        )

    return app


async def test_the_cap_is_declared_and_enforced_the_same() -> None:
    app = app_listing(500)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        spec = (await client.get("/openapi.json")).json()
        declared = {p["name"]: p["schema"] for p in spec["paths"]["/numbers"]["get"]["parameters"]}
        assert declared["limit"]["maximum"] == MAX_PAGE_SIZE and declared["offset"]["maximum"] == MAX_OFFSET
        assert (await client.get("/numbers", params={"limit": MAX_PAGE_SIZE})).status_code == 200
        assert (await client.get("/numbers", params={"limit": MAX_PAGE_SIZE + 1})).status_code == 422
        assert (await client.get("/numbers", params={"offset": 2**63})).status_code == 422


async def test_paginate_counts_the_whole_statement_and_cuts_one_page() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(numbers), [{"n": n} for n in range(1, 26)])
    async with AsyncSession(engine) as session:
        page = await paginate(
            session, select(numbers.c.n).order_by(numbers.c.n.desc()), PageParams(offset=5, limit=3), lambda row: row.n
        )
    await engine.dispose()
    assert page == Page[int](items=[20, 19, 18], total=25, offset=5, limit=3)
