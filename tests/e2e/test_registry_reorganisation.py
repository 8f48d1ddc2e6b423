"""The 2025 reorganisation through the gateway, across real processes: cadres of three provinces before, one province
after, every cadre still found, counts as of 2025-06-30 by the old units and as of today by the new one, and the
reporting service's read model following the registry's events."""

import random
from contextlib import closing
from datetime import date
from typing import Any

import httpx
import pytest

from devstack import demo_registry
from devstack.demo_registry import lam_dong_2025
from devstack.stack import Stack
from tests.e2e.conftest import login
from tests.e2e.helpers import eventually, reported_total

pytestmark = [pytest.mark.e2e, pytest.mark.own_stack]  # it reorganises units the other modules use

REGISTRY = "/api/v1/registry"
PLACES = {  # managing unit -> (tier, how many)
    "VN.68": ("provincial_2", 3),
    "VN.68.672": ("district", 2),
    "VN.67": ("provincial_1", 2),
    "VN.67.661": ("district", 1),
    "VN.60": ("central", 1),
    "VN.60.593": ("treatment_only", 2),
}


def cadre(unit: str, tier: str, serial: int) -> dict[str, Any]:
    born = date(1950 + serial % 20, 1 + serial % 12, 1 + serial % 28)
    return {
        "full_name": f"Cán Bộ Thử {serial}",
        "date_of_birth": born.isoformat(),
        "sex": "male",
        "national_id": f"0680{born.year % 100:02d}{random.randrange(10**6):06d}",
        "tier": tier,
        "managing_unit": unit,
        "status": "retired",
        "status_since": "2019-01-01",
    }


def totals(answer: httpx.Response) -> dict[str, int]:
    assert answer.status_code == 200, answer.text
    found: dict[str, int] = {}
    for row in answer.json():
        found[row["managing_unit"]] = found.get(row["managing_unit"], 0) + row["count"]
    return found


def test_three_provinces_become_the_new_lam_dong(stack: Stack, admin: httpx.Client) -> None:
    data = lam_dong_2025()
    assert admin.post(f"{REGISTRY}/units/import", json=data["units"]).status_code == 200
    created = []
    for unit, (tier, count) in PLACES.items():
        for _ in range(count):
            answer = admin.post(f"{REGISTRY}/cadres", json=cadre(unit, tier, len(created)))
            assert answer.status_code == 201, answer.text
            created.append(answer.json())
    assert eventually(lambda: reported_total(admin, "VN.67") == 3, timeout=20)
    with closing(login(stack, "dalat")) as dalat:
        assert dalat.get(f"{REGISTRY}/cadres").json()["total"] == 2

    answer = admin.post(f"{REGISTRY}/units/reorganisations", json=data["reorganisation"])
    assert answer.status_code == 201, answer.text
    assert answer.json()["moved_cadres"] == 8

    for item in created:
        found = admin.get(f"{REGISTRY}/cadres/{item['id']}")
        assert found.status_code == 200 and found.json()["managing_unit"] == "VN.68"
    assert admin.get(f"{REGISTRY}/cadres", params={"unit": "VN.68"}).json()["total"] == 11

    old_day = {"on": "2025-06-30"}
    assert totals(admin.get(f"{REGISTRY}/cadre-counts", params={"unit": "VN.68", **old_day})) == {"VN.68": 3, "VN.68.672": 2}
    assert totals(admin.get(f"{REGISTRY}/cadre-counts", params={"unit": "VN.67", **old_day})) == {"VN.67": 2, "VN.67.661": 1}
    assert totals(admin.get(f"{REGISTRY}/cadre-counts", params={"unit": "VN.60", **old_day})) == {"VN.60": 1, "VN.60.593": 2}
    assert totals(admin.get(f"{REGISTRY}/cadre-counts", params={"unit": "VN.68"})) == {"VN.68": 11}
    mapped = admin.get(f"{REGISTRY}/cadre-counts", params={"unit": "VN.68", "mapped": True, **old_day})
    assert totals(mapped) == {"VN.68": 11}
    provinces = [u["path"] for u in admin.get(f"{REGISTRY}/units").json() if u["level"] == "province"]
    assert provinces == ["VN.68"]

    # every other service follows the registry's events: reporting now counts them all under the new province
    assert eventually(lambda: reported_total(admin, "VN.67") == 0 and reported_total(admin, "VN.68") == 11, timeout=20)
    with closing(login(stack, "dalat")) as dalat:  # the city's board no longer manages anyone
        assert dalat.get(f"{REGISTRY}/cadres").json()["total"] == 0


def test_the_registry_demo_seeds_through_the_gateway(admin: httpx.Client) -> None:
    summary = demo_registry.seed(admin)
    assert summary.endswith("2 proposals"), summary
    proposals = admin.get(f"{REGISTRY}/proposals").json()
    assert sorted(p["status"] for p in proposals) == ["appraised", "proposed"]
    assert demo_registry.seed(admin).endswith("0 proposals")  # seeding twice adds nothing
