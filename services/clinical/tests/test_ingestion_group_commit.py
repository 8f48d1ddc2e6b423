"""Single records posted at once are written together (clinical.ingestion.group_commit), and each request
still gets its own item's answer: created, existed, amended or refused, one record and one event per change,
the versions of a record in the order they were posted, two facilities' records apart."""

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import httpx
from fastapi import FastAPI

from clinical.ingestion.group_commit import GroupCommit
from clinical.tables import KIT, ClinicalRecord, ClinicalRecordVersion
from contracts.scope import Principal

Sign = Callable[[Principal], dict[str, str]]
Count = Callable[[Any], Awaitable[int]]
Events = Callable[[], Awaitable[list[tuple[str, dict[str, Any]]]]]
B1 = {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "B1"}


def exam(national_id: str, external_id: str, **values: Any) -> dict[str, Any]:
    return {
        "kind": "periodic_exam",
        "external_id": external_id,
        "national_id": national_id,
        "occurred_on": "2026-03-02",
        "diagnoses": [{"code": "I10"}],
        "classification": B1,
        **values,
    }


async def test_records_posted_at_once_each_get_their_own_answer(
    app: FastAPI, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, count_rows: Count, outbox_events: Events
) -> None:
    national_ids = [f"06805201{i:04d}" for i in range(4)]
    for nid in national_ids:
        await seed_cadre(national_id=nid)
    distinct = [exam(national_ids[i % 4], f"GC-{i:03d}") for i in range(30)]
    refused = exam(national_ids[0], "GC-BAD", diagnoses=[{"code": "NOT-ICD"}])
    unknown = exam("068099999999", "GC-UNKNOWN")
    bodies = [*distinct, refused, distinct[0], unknown]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clinical") as http:
        answers = await asyncio.gather(*(http.post("/his/records", json=b, headers=sign_as(principals.his)) for b in bodies))
    assert [a.status_code for a in answers[:30]] == [201] * 30, answers[0].text
    assert answers[30].status_code == 422 and answers[30].json()["errors"][0]["loc"][:2] == ["body", "diagnoses"]
    assert answers[31].status_code == 200 and answers[31].json()["outcome"] == "existed"
    assert answers[31].json()["record"]["id"] == answers[0].json()["record"]["id"]
    assert answers[32].status_code == 422
    assert [a.json()["record"]["external_id"] for a in answers[:30]] == [b["external_id"] for b in distinct]
    assert await count_rows(ClinicalRecord) == 30
    assert await count_rows(ClinicalRecordVersion) == 30
    assert await count_rows(KIT.outbox) == 30
    committer: GroupCommit = app.state.group_commit
    assert committer.batches < 31  # written together, not one transaction each


async def test_versions_of_one_record_keep_the_order_they_were_written_in(
    app: FastAPI, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, outbox_events: Events
) -> None:
    nid = "068052019999"
    await seed_cadre(national_id=nid)
    conclusions = [f"Kết luận {n}" for n in range(6)]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clinical") as http:
        answers = await asyncio.gather(
            *(
                http.post("/his/records", json=exam(nid, "GC-V", conclusion=c), headers=sign_as(principals.his))
                for c in conclusions
            )
        )
    assert sorted(a.json()["outcome"] for a in answers) == ["amended"] * 5 + ["created"]
    assert sorted(a.json()["record"]["version"] for a in answers) == [1, 2, 3, 4, 5, 6]
    record_id = answers[0].json()["record"]["id"]
    events = [p["record"] for _, p in await outbox_events() if str(p.get("record", {}).get("record_id")) == record_id]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5, 6]  # one event per version, in the order written


async def test_two_facilities_posting_at_once_write_their_own_records(
    app: FastAPI, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, count_rows: Count
) -> None:
    await seed_cadre(national_id="068052018888")
    await seed_cadre(national_id="079052018888", managing_unit="VN.79", tier="provincial_2")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clinical") as http:
        lamdong, saigon, saigon_outside = await asyncio.gather(
            http.post("/his/records", json=exam("068052018888", "GC-F"), headers=sign_as(principals.his)),
            http.post("/his/records", json=exam("079052018888", "GC-F"), headers=sign_as(principals.his_saigon)),
            http.post("/his/records", json=exam("068052018888", "GC-F2"), headers=sign_as(principals.his_saigon)),
        )
    assert lamdong.status_code == 201 and saigon.status_code == 201
    assert lamdong.json()["record"]["id"] != saigon.json()["record"]["id"]  # the same external id, two facilities
    assert saigon_outside.status_code == 422  # a cadre outside the Sài Gòn facility's grants
    assert await count_rows(ClinicalRecord) == 2
