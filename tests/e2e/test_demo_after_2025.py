"""`make run`'s demo, after 2025, through the gateway: the cadres registered on the old Lâm Đồng, Đắk Nông and
Bình Thuận (with records of 2023), carried by the 2025 reorganisation onto the new Lâm Đồng and its communes
(district-tier cadres re-tiered to the commune of their residence), their addresses read to today's communes, and
the demo users: the province's board, the commune board it delegates to, the central board. The units of the new
Lâm Đồng only (the whole country is the same calls for 33 more provinces), to keep the test short."""

from collections import Counter
from contextlib import closing

import httpx
import pytest

from devstack import demo
from devstack.stack import Stack
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.own_stack]

REGISTRY = "/api/v1/registry"
XUAN_HUONG = "VN.68.24781"  # Phường Xuân Hương - Đà Lạt, the demo commune board's


def by_unit(client: httpx.Client, unit: str, on: str | None = None) -> Counter[tuple[str, str]]:
    params = {"unit": unit, **({"on": on} if on else {})}
    answer = client.get(f"{REGISTRY}/cadre-counts", params=params)
    assert answer.status_code == 200, answer.text
    totals: Counter[tuple[str, str]] = Counter()
    for row in answer.json():
        totals[(row["managing_unit"], row["tier"])] += row["count"]
    return totals


def test_the_demo_starts_after_2025(stack: Stack) -> None:
    summary = demo.seed(stack.config.gateway_url, provinces=("VN.68",))
    assert not [line for line in summary if "not loaded" in line], summary
    assert "503 cadres registered" in summary[1], summary
    assert "0 to settle" in next(line for line in summary if "residence addresses" in line), summary

    with closing(login(stack, "admin")) as admin:
        today = admin.get(f"{REGISTRY}/units", params={"under": "VN.68"}).json()
        assert Counter(u["level"] for u in today) == Counter({"province": 1, "commune": 124})
        before = admin.get(f"{REGISTRY}/units", params={"on": "2025-06-30"}).json()
        assert sorted(u["path"] for u in before if u["level"] == "province") == ["VN.60", "VN.67", "VN.68"]
        # 2023 as the units stood: the old provinces and their districts
        in_2023 = by_unit(admin, "VN", "2023-12-31")
        assert in_2023[("VN.67", "provincial_2")] == 4 and in_2023[("VN.68.672", "district")] == 12
        now = by_unit(admin, "VN")
        assert {unit for unit, _ in now} <= {"VN.68"} | {u["path"] for u in today}  # every cadre on today's units
        assert sum(n for (unit, tier), n in now.items() if tier == "commune") == 120 + 8  # every district-tier cadre
        assert sum(now.values()) == 503
        cadres = admin.get(f"{REGISTRY}/cadres", params={"unit": "VN.68", "limit": 200}).json()["items"]
        assert all(c["residence_unit"] and c["residence_unit"].count(".") == 2 for c in cadres)  # today's communes

    with closing(login(stack, "lamdong")) as province, closing(login(stack, "xuanhuong")) as commune:
        assert province.get(f"{REGISTRY}/cadres", params={"limit": 1}).json()["total"] == 503
        assert province.get(f"{REGISTRY}/addresses/unresolved").json()["total"] == 0
        mine = commune.get(f"{REGISTRY}/cadres", params={"limit": 200}).json()["items"]
        assert mine and {(c["managing_unit"], c["tier"]) for c in mine} == {(XUAN_HUONG, "commune")}
    with closing(login(stack, "central")) as central, closing(login(stack, "dalat")) as old_district:
        assert central.get(f"{REGISTRY}/cadres", params={"limit": 1}).json()["total"] == 13
        assert old_district.get(f"{REGISTRY}/cadres", params={"limit": 1}).json()["total"] == 0  # no district since
