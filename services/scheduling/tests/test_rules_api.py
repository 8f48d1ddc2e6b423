"""Cadence rules as versioned data: a plan keeps the version it was made with; on SQLite and PostgreSQL."""

from typing import Any

import httpx

from contracts.enums import ManagementTier


async def test_rules_are_versioned_and_a_plan_keeps_its_version(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any
) -> None:
    await k.register(feed, tier=ManagementTier.PROVINCIAL_2)
    plan = await k.make_plan(client, sign_as)
    assert plan["rule_set_version"] == 1
    # Bình Định's way: everyone twice a year. A new version, later: the plan made with version 1 does not change.
    twice = k.rules_body(rules=[{"tier": "provincial_2", "status": "active", "exams_per_year": 2}])
    second = await client.post("/cadence-rules", json=twice, headers=sign_as(k.LAMDONG))
    assert second.status_code == 201 and second.json()["version"] == 2
    listed = await client.get("/cadence-rules", params={"board_unit": "VN.68", "year": k.YEAR}, headers=sign_as(k.LAMDONG))
    assert [r["version"] for r in listed.json()] == [1, 2]
    generated = await client.post(f"/plans/{plan['id']}/generate", headers=sign_as(k.LAMDONG))
    assert generated.status_code == 200, generated.text
    assert generated.json()["by_round"] == {"1": 1}  # once a year, as version 1 says
    again = await client.get(f"/plans/{plan['id']}", headers=sign_as(k.LAMDONG))
    assert again.json()["rule_set_version"] == 1 and again.json()["generated_at"] is not None
    bad = await client.post(
        "/cadence-rules",
        json=k.rules_body(rules=[{"tier": "district", "status": "deceased", "exams_per_year": 1}]),
        headers=sign_as(k.LAMDONG),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["rules", 0, "status"]
