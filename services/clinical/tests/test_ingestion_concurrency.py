"""The same batch posted at once from several connections is stored exactly once (SQLite and PostgreSQL)."""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import httpx
from fastapi import FastAPI

from clinical.tables import KIT, ClinicalRecord, ClinicalRecordVersion
from contracts.scope import Principal

Sign = Callable[[Principal], dict[str, str]]
Count = Callable[[Any], Awaitable[int]]
CONNECTIONS = 8
BATCH = 40


def batch(national_ids: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "kind": "periodic_exam",
            "external_id": f"KSK-C-{index:03d}",
            "national_id": national_ids[index % len(national_ids)],
            "occurred_on": "2026-03-02",
            "diagnoses": [{"code": "I10"}],
            "classification": {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "B1"},
        }
        for index in range(BATCH)
    ]


async def test_the_same_batch_posted_at_once_is_stored_once(
    app: FastAPI, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, count_rows: Count
) -> None:
    national_ids = [f"06805200{i:04d}" for i in range(5)]
    for nid in national_ids:
        await seed_cadre(national_id=nid)
    items = batch(national_ids)
    headers = sign_as(principals.his)
    single = items[0] | {"external_id": "KSK-C-SINGLE"}

    async def post_bulk() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clinical") as http:
            answer = await http.post("/his/records/bulk", json={"items": items}, headers=headers)
            assert answer.status_code == 200, answer.text
            result: dict[str, Any] = answer.json()
            return result

    async def post_single() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clinical") as http:
            return await http.post("/his/records", json=single, headers=headers)

    answers = await asyncio.gather(*[post_bulk() for _ in range(CONNECTIONS)], *[post_single() for _ in range(CONNECTIONS)])
    bulks = [a for a in answers if isinstance(a, dict)]
    singles = [a for a in answers if isinstance(a, httpx.Response)]

    per_item: Counter[tuple[int, str]] = Counter()
    record_ids: dict[int, set[str]] = {}
    for result in bulks:
        for item in result["items"]:
            per_item[(item["index"], item["outcome"])] += 1
            record_ids.setdefault(item["index"], set()).add(item["record"]["id"])
    for index in range(BATCH):
        assert per_item[(index, "created")] == 1 and per_item[(index, "existed")] == CONNECTIONS - 1
        assert len(record_ids[index]) == 1  # every answer names the same record
    assert sorted(s.status_code for s in singles) == [200] * (CONNECTIONS - 1) + [201]
    assert len({s.json()["record"]["id"] for s in singles}) == 1
    assert await count_rows(ClinicalRecord) == BATCH + 1
    assert await count_rows(ClinicalRecordVersion) == BATCH + 1
    assert await count_rows(KIT.outbox) == BATCH + 1
