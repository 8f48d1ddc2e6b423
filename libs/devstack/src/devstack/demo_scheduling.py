"""Scheduling demo data, through the gateway as the administrator: Lâm Đồng's cadence rule of 2023 (Kế hoạch
138-KH: group 1 twice a year, groups 2 and 3 once; central tier once, at Thống Nhất hospital as in 2023) for the
current year, an exam plan in two rounds generated into invitations, home-visit schedules for the central-tier
cadres, a convalescence trip for retired leaders with six registrations, and the expert council's clinic days.
Running it again adds nothing twice."""

import time
from datetime import date, timedelta
from typing import Any

import httpx

from servicekit import clock

API = "/api/v1/scheduling"
REGISTRY = "/api/v1/registry"
BOARD = "VN.68"
BVDK = "68-BVDK"
THONG_NHAT = "BV-THONGNHAT"
VISITOR = "BS. Trần Thị Lan, Phòng khám – Quản lý sức khỏe cán bộ tỉnh"
CLINIC_PLACE = "Phòng khám – Quản lý sức khỏe cán bộ, 04 Phạm Ngọc Thạch, Đà Lạt"


def _ok(answer: httpx.Response) -> Any:
    answer.raise_for_status()
    return answer.json()


def _wait_for_roster(client: httpx.Client, timeout: float = 60) -> int:
    """Scheduling learns the cadres from the registry's events: wait until it knows the board's cadres."""
    expected = _ok(client.get(f"{REGISTRY}/cadres", params={"unit": BOARD, "limit": 1}))["total"]
    deadline = time.monotonic() + timeout
    while True:
        known: int = _ok(client.get(f"{API}/roster/summary"))["cadres"]
        if known >= expected or time.monotonic() > deadline:
            return known
        time.sleep(0.5)


def _rules(year: int) -> dict[str, Any]:
    per_year = {"central": 1, "provincial_1": 2, "provincial_2": 1, "provincial_3": 1}
    return {
        "board_unit": BOARD,
        "year": year,
        "rules": [
            {"tier": tier, "status": status, "exams_per_year": count}
            for tier, count in per_year.items()
            for status in ("active", "retired")
        ],
        "note": "Theo Kế hoạch 138-KH (Lâm Đồng 2023): đối tượng 1 khám 2 lần/năm, đối tượng 2 và 3 khám 1 lần/năm",
    }


def _plan(year: int, today: date, rule_set_id: str) -> dict[str, Any]:
    provincial = [{"tier": tier, "facility": BVDK} for tier in ("provincial_1", "provincial_2", "provincial_3")]
    return {
        "board_unit": BOARD,
        "year": year,
        "title": f"Kế hoạch khám sức khỏe định kỳ năm {year} cho cán bộ thuộc diện Ban Thường vụ Tỉnh ủy quản lý",
        "plan_date": today.isoformat(),
        "rule_set_id": rule_set_id,
        "on_transfer": "flag",
        "facilities": [
            {
                "code": BVDK,
                "name": "Bệnh viện Đa khoa tỉnh Lâm Đồng",
                "address": "04 Phạm Ngọc Thạch, Phường 6, Đà Lạt",
                "daily_capacity": 20,
            },
            {
                "code": THONG_NHAT,
                "name": "Bệnh viện Thống Nhất",
                "address": "1 Lý Thường Kiệt, Phường 7, Tân Bình, TP. Hồ Chí Minh",
                "daily_capacity": 5,
            },
        ],
        "rounds": [
            {
                "number": 1,
                "starts_on": date(year, 3, 1).isoformat(),
                "ends_on": date(year, 4, 30).isoformat(),
                "groups": [{"tier": "central", "facility": THONG_NHAT}, *provincial],
            },
            {
                "number": 2,
                "starts_on": date(year, 9, 1).isoformat(),
                "ends_on": date(year, 12, 15).isoformat(),
                "groups": [{"tier": "provincial_1", "facility": BVDK}],
            },
        ],
    }


def _exam_plan(client: httpx.Client, today: date) -> tuple[int, int]:
    year = today.year
    title = _plan(year, today, "")["title"]
    plan = next((p for p in _ok(client.get(f"{API}/plans", params={"year": year})) if p["title"] == title), None)
    if plan is None:
        rule_sets = _ok(client.get(f"{API}/cadence-rules", params={"board_unit": BOARD, "year": year}))
        rule_set = rule_sets[-1] if rule_sets else _ok(client.post(f"{API}/cadence-rules", json=_rules(year)))
        plan = _ok(client.post(f"{API}/plans", json=_plan(year, today, rule_set["id"])))
    _ok(client.post(f"{API}/plans/{plan['id']}/generate"))
    invited: int = _ok(client.get(f"{API}/invitations", params={"plan_id": plan["id"], "limit": 1}))["total"]
    return len(plan["rounds"]), invited


def _home_visits(client: httpx.Client, today: date) -> int:
    central = _ok(client.get(f"{REGISTRY}/cadres", params={"unit": BOARD, "tier": "central", "limit": 50}))["items"]
    for index, cadre in enumerate(central):
        if cadre.get("status") not in ("active", "retired"):
            continue
        body = {
            "cadre_id": cadre["id"],
            "every_months": 1 if cadre.get("status") == "retired" else 3,
            "visitor": VISITOR,
            "starts_on": (today - timedelta(days=7 * (index % 4))).isoformat(),  # a few already overdue
        }
        answer = client.post(f"{API}/home-visits/schedules", json=body)
        if answer.status_code not in (201, 409):
            answer.raise_for_status()
    total: int = _ok(client.get(f"{API}/home-visits/schedules", params={"unit": BOARD, "limit": 1}))["total"]
    return total


def _convalescence(client: httpx.Client, today: date) -> str:
    if not _ok(client.get(f"{API}/convalescence/rules", params={"board_unit": BOARD})):
        rule = {
            "board_unit": BOARD,
            "valid_from": date(today.year - 1, 1, 1).isoformat(),
            "tiers": ["central", "provincial_1"],
            "statuses": ["retired"],
            "interval_years": 2,
            "note": "Cán bộ lãnh đạo nghỉ hưu, 2 năm một lần",
        }
        _ok(client.post(f"{API}/convalescence/rules", json=rule))
    starts = today + timedelta(days=30)
    title = f"Nghỉ dưỡng cán bộ hưu trí năm {starts.year}"
    trips = _ok(client.get(f"{API}/convalescence/trips", params={"board_unit": BOARD}))
    trip = next((t for t in trips if t["title"] == title), None)
    if trip is None:
        body = {
            "board_unit": BOARD,
            "title": title,
            "destination": "Khu nghỉ dưỡng Vũng Tàu",
            "starts_on": starts.isoformat(),
            "ends_on": (starts + timedelta(days=6)).isoformat(),
            "quota": 14,
        }
        trip = _ok(client.post(f"{API}/convalescence/trips", json=body))
        eligible = _ok(client.get(f"{API}/convalescence/trips/{trip['id']}/eligible", params={"limit": 6}))["items"]
        for cadre in eligible:
            _ok(client.post(f"{API}/convalescence/trips/{trip['id']}/registrations", json={"cadre_id": cadre["cadre_id"]}))
        trip = _ok(client.get(f"{API}/convalescence/trips/{trip['id']}"))
    return f"trip {trip['destination']}: {trip['summary']}"


def _clinic_days(client: httpx.Client, today: date) -> int:
    first = date(today.year, today.month, 1) + timedelta(days=32)
    series = {
        "board_unit": BOARD,
        "year": first.year,
        "from_month": first.month,
        "months": 3,
        "days_of_month": [10, 25],
        "capacity": 8,
        "place": CLINIC_PLACE,
        "council": "Hội đồng chuyên môn Ban BVCSSK cán bộ tỉnh",
    }
    _ok(client.post(f"{API}/clinic-sessions/series", json=series))
    return len(_ok(client.get(f"{API}/clinic-sessions", params={"board_unit": BOARD, "from": today.isoformat()})))


def seed(client: httpx.Client) -> str:
    today = clock.today()  # Vietnam's date, as the services count it
    roster = _wait_for_roster(client)
    rounds, invited = _exam_plan(client, today)
    visits = _home_visits(client, today)
    trip = _convalescence(client, today)
    days = _clinic_days(client, today)
    return (
        f"scheduling: plan {today.year} in {rounds} rounds, {invited} invitations for {roster} cadres; "
        f"{visits} home-visit schedules; {trip}; {days} clinic days ahead"
    )
