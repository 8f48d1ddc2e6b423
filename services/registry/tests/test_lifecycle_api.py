"""Retirement, tier change, death and removal on SQLite and PostgreSQL, and the as-of counts they leave."""

from datetime import UTC, datetime
from typing import Any

from registry_testkit import Api, counts

from servicekit import clock


async def test_lifecycle_and_as_of_counts(api: Api) -> None:
    active = await api.create(status="active", status_since="2015-01-01", date_of_birth="1966-05-01", tier="provincial_1")
    retired = await api.post(f"/cadres/{active['id']}/retirement", json={"effective_date": "2023-06-01"})
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    again = await api.post(f"/cadres/{active['id']}/retirement", json={"effective_date": "2023-07-01"})
    assert again.status_code == 422 and again.json()["errors"][0]["loc"] == ["status"]
    early = await api.post(f"/cadres/{active['id']}/tier", json={"tier": "provincial_2", "effective_date": "2023-01-01"})
    assert early.status_code == 422 and "before the last recorded change" in early.json()["errors"][0]["msg"]
    future = await api.post(f"/cadres/{active['id']}/death", json={"effective_date": "2099-01-01"})
    assert future.status_code == 422 and future.json()["errors"][0]["loc"] == ["effective_date"]
    promoted = await api.post(f"/cadres/{active['id']}/tier", json={"tier": "central", "effective_date": "2024-01-01"})
    assert promoted.status_code == 200 and promoted.json()["tier"] == "central"
    died = await api.post(f"/cadres/{active['id']}/death", json={"effective_date": "2025-02-01"})
    assert died.status_code == 200
    after_death = await api.post(
        f"/cadres/{active['id']}/transfer", json={"to_unit": "VN.67", "effective_date": "2025-03-01", "reason": "moved"}
    )
    assert after_death.status_code == 422 and "no change after death" in after_death.json()["errors"][0]["msg"]

    def on(day: str) -> Any:
        return api.get("/cadre-counts", params={"unit": "VN.68", "on": day})

    assert counts(await on("2014-12-31")) == {}
    assert counts(await on("2022-12-31")) == {("VN.68", "provincial_1", "active"): 1}
    assert counts(await on("2023-12-31")) == {("VN.68", "provincial_1", "retired"): 1}
    assert counts(await on("2024-06-30")) == {("VN.68", "central", "retired"): 1}
    assert counts(await on("2025-06-30")) == {("VN.68", "central", "deceased"): 1}
    history = [(h["operation"], h["field"]) for h in (await api.get(f"/cadres/{active['id']}/history")).json()]
    assert ("retired", "status") in history and ("tier_changed", "tier") in history and ("died", "status") in history
    types = [t for _, t in await api.outbox()]
    assert types[-3:] == [
        "vn.cadrecare.registry.cadre.retired",
        "vn.cadrecare.registry.cadre.tier_changed",
        "vn.cadrecare.registry.cadre.died",
    ]
    removal = await api.create()
    removed = await api.post(
        f"/cadres/{removal['id']}/removal", json={"effective_date": "2024-01-01", "reason": "không còn đủ tiêu chuẩn"}
    )
    assert removed.json()["status"] == "removed"


# 01:30 on 28 November in Vietnam, while the UTC date is still the 27th: the board's "today" is Vietnam's.
VIETNAM_NIGHT = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)


async def test_the_future_horizon_counts_from_vietnams_today(api: Api) -> None:
    """30 days from Vietnam's 28 November is 28 December; from the UTC date it would have been the 27th."""
    cadre = await api.create(status="active", status_since="2015-01-01", date_of_birth="1966-05-01", tier="provincial_1")
    with clock.frozen_at(VIETNAM_NIGHT):
        too_far = await api.post(f"/cadres/{cadre['id']}/retirement", json={"effective_date": "2026-12-29"})
        retired = await api.post(f"/cadres/{cadre['id']}/retirement", json={"effective_date": "2026-12-28"})
    assert too_far.status_code == 422 and too_far.json()["errors"][0]["loc"] == ["effective_date"]
    assert retired.status_code == 200, retired.text
