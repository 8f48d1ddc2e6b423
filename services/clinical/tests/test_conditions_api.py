"""The chronic problem list (clinical.conditions), on SQLite and PostgreSQL."""

from types import SimpleNamespace
from typing import Any

import httpx
from clinical_testkit import Sign, admission, exam, post


async def test_problem_list_groups_chronic_diagnoses_with_first_and_last_seen(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    nid = "068052000060"
    cadre_id = await seed_cadre(national_id=nid)
    await post(client, sign_as, principals.his, exam(nid, external_id="E1", occurred_on="2024-03-01"))
    await post(
        client, sign_as, principals.his, exam(nid, external_id="E2", occurred_on="2025-03-01", diagnoses=[{"code": "I10"}])
    )
    await post(client, sign_as, principals.his, admission(nid, external_id="N1", occurred_on="2025-11-02"))
    answer = (await client.get(f"/cadres/{cadre_id}/conditions", headers=sign_as(principals.doctor))).json()
    assert answer["comorbidity"] == 3
    assert [(c["group"], c["first_seen"], c["last_seen"], c["records"]) for c in answer["conditions"]] == [
        ("hypertension", "2024-03-01", "2025-03-01", 2),
        ("diabetes", "2024-03-01", "2024-03-01", 1),
        ("copd", "2025-11-02", "2025-11-02", 1),
    ]
    assert answer["conditions"][1]["codes"] == ["E11.9"]
