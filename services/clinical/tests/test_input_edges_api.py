"""Numbers JSON cannot carry, on SQLite and PostgreSQL: `1e999` parses as infinity and `NaN` as not-a-number;
both were accepted and then answered (and published) as null. Now refused with 422, nothing stored."""

import json
from types import SimpleNamespace
from typing import Any

import httpx
from clinical_testkit import Events, Sign, exam


async def test_a_measurement_that_is_not_a_finite_number_is_refused(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, outbox_events: Events
) -> None:
    nid = "068052000001"
    await seed_cadre(national_id=nid)
    headers = {**sign_as(principals.his), "content-type": "application/json"}
    for index, number in enumerate(("1e999", "-1e999", "NaN", "Infinity")):
        body = json.dumps(exam(nid, external_id=f"KSK-{index}", measurements=[{"code": "weight", "value": 0, "unit": "kg"}]))
        answer = await client.post("/his/records", content=body.replace('"value": 0', f'"value": {number}'), headers=headers)
        assert answer.status_code == 422, (number, answer.text)
        first = answer.json()["errors"][0]
        assert first["loc"][2:5] == ["measurements", 0, "value"] and first["type"] == "finite_number", answer.text
    assert await outbox_events() == []
    finite = exam(nid, external_id="KSK-9", measurements=[{"code": "weight", "value": 61.5, "unit": "kg"}])
    stored = await client.post("/his/records", json=finite, headers=sign_as(principals.his))
    assert stored.status_code == 201, stored.text
