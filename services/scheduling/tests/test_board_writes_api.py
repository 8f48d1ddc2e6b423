"""A board's own records (cadence rules, exam plans and their generation, clinic days, convalescence rules and
trips) are written by that board only: a grant on the board's unit with a tier the board manages, whatever
the caller's role. A grant above the unit is not enough; reading them still is. On SQLite and PostgreSQL."""

from datetime import date
from itertools import count
from typing import Any

import httpx
import pytest

from contracts.enums import Action, ManagementTier
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, PrincipalKind

T = ManagementTier
CENTRAL_BOARD = Principal(
    subject="user:central-board",
    kind=PrincipalKind.STAFF,
    permissions=frozenset({Permission.SCHEDULING_READ.value, Permission.SCHEDULING_WRITE.value}),
    grants=(
        Grant(unit_path="VN", tiers=frozenset({T.CENTRAL}), actions=frozenset({Action.READ, Action.WRITE})),
        Grant(unit_path="VN", tiers=frozenset(T), actions=frozenset({Action.AGGREGATE})),
    ),
)
BOARD_TIER = {"VN": T.CENTRAL, "VN.68": T.PROVINCIAL_2, "VN.68.672": T.DISTRICT}
DISTRICT = "VN.68.672"
PLACE = "Phòng khám – Quản lý sức khỏe cán bộ"


def owner(k: Any, board: str) -> Principal:
    """Each board's own staff."""
    boards: dict[str, Principal] = {"VN": CENTRAL_BOARD, "VN.68": k.LAMDONG, DISTRICT: k.DALAT}
    return boards[board]


def province_with_district_writes(k: Any) -> Principal:
    grants = (
        *k.LAMDONG.grants,
        Grant(unit_path="VN.68", tiers=frozenset({T.DISTRICT}), actions=frozenset({Action.READ, Action.WRITE})),
    )
    province: Principal = k.LAMDONG
    return province.model_copy(update={"subject": "user:lamdong-districts", "grants": grants})


days = count(1)  # every clinic day written is a new date: a board holds one per date


def rule_set_body(k: Any, board: str) -> dict[str, Any]:
    return {"board_unit": board, "year": k.YEAR, "rules": [{"tier": BOARD_TIER[board], "status": "active", "exams_per_year": 1}]}


async def owners_rule_set(k: Any, client: httpx.AsyncClient, sign_as: Any, board: str) -> str:
    made = await client.post("/cadence-rules", json=rule_set_body(k, board), headers=sign_as(owner(k, board)))
    assert made.status_code == 201, made.text
    rule_set_id: str = made.json()["id"]
    return rule_set_id


def plan_body(k: Any, board: str, rule_set_id: str) -> dict[str, Any]:
    return {
        "board_unit": board,
        "year": k.YEAR,
        "title": f"Kế hoạch khám sức khỏe định kỳ {board}",
        "plan_date": k.TODAY.isoformat(),
        "rule_set_id": rule_set_id,
        "facilities": [{"code": "PK", "name": "Phòng khám", "daily_capacity": 5}],
        "rounds": [
            {
                "number": 1,
                "starts_on": k.day(3, 2),
                "ends_on": k.day(3, 13),
                "groups": [{"tier": BOARD_TIER[board], "facility": "PK"}],
            }
        ],
    }


async def write_rule_set(k: Any, client: httpx.AsyncClient, sign_as: Any, who: Principal, board: str) -> httpx.Response:
    return await client.post("/cadence-rules", json=rule_set_body(k, board), headers=sign_as(who))


async def write_plan(k: Any, client: httpx.AsyncClient, sign_as: Any, who: Principal, board: str) -> httpx.Response:
    body = plan_body(k, board, await owners_rule_set(k, client, sign_as, board))
    return await client.post("/plans", json=body, headers=sign_as(who))


async def generate_plan(k: Any, client: httpx.AsyncClient, sign_as: Any, who: Principal, board: str) -> httpx.Response:
    body = plan_body(k, board, await owners_rule_set(k, client, sign_as, board))
    plan = await client.post("/plans", json=body, headers=sign_as(owner(k, board)))
    assert plan.status_code == 201, plan.text
    return await client.post(f"/plans/{plan.json()['id']}/generate", headers=sign_as(who))


async def write_clinic_session(k: Any, client: httpx.AsyncClient, sign_as: Any, who: Principal, board: str) -> httpx.Response:
    held_on = date(k.YEAR, 1, 1).toordinal() + next(days)
    body = {"board_unit": board, "held_on": date.fromordinal(held_on).isoformat(), "capacity": 2, "place": PLACE}
    return await client.post("/clinic-sessions", json=body, headers=sign_as(who))


async def write_clinic_series(k: Any, client: httpx.AsyncClient, sign_as: Any, who: Principal, board: str) -> httpx.Response:
    body = {
        "board_unit": board,
        "year": k.YEAR,
        "from_month": 1,
        "months": 2,
        "days_of_month": [10, 25],
        "capacity": 2,
        "place": PLACE,
    }
    return await client.post("/clinic-sessions/series", json=body, headers=sign_as(who))


def convalescence_rule(k: Any, board: str) -> dict[str, Any]:
    return {"board_unit": board, "valid_from": date(k.YEAR - 1, 1, 1).isoformat(), "tiers": [BOARD_TIER[board]]}


async def write_convalescence_rule(k: Any, client: httpx.AsyncClient, sign_as: Any, who: Principal, board: str) -> httpx.Response:
    return await client.post("/convalescence/rules", json=convalescence_rule(k, board), headers=sign_as(who))


async def write_convalescence_trip(k: Any, client: httpx.AsyncClient, sign_as: Any, who: Principal, board: str) -> httpx.Response:
    rule = await client.post("/convalescence/rules", json=convalescence_rule(k, board), headers=sign_as(owner(k, board)))
    assert rule.status_code == 201, rule.text
    trip = {
        "board_unit": board,
        "title": f"Nghỉ dưỡng {board}",
        "destination": "Khu nghỉ dưỡng Vũng Tàu",
        "starts_on": k.day(6, 1),
        "ends_on": k.day(6, 7),
        "quota": 5,
    }
    return await client.post("/convalescence/trips", json=trip, headers=sign_as(who))


WRITES = {
    "cadence rules": write_rule_set,
    "exam plan": write_plan,
    "plan generation": generate_plan,
    "clinic session": write_clinic_session,
    "clinic series": write_clinic_series,
    "convalescence rule": write_convalescence_rule,
    "convalescence trip": write_convalescence_trip,
}


@pytest.mark.parametrize("record", list(WRITES))
async def test_only_the_board_itself_writes_its_records(record: str, k: Any, client: httpx.AsyncClient, sign_as: Any) -> None:
    write = WRITES[record]
    for who, board in [(CENTRAL_BOARD, DISTRICT), (CENTRAL_BOARD, "VN.68"), (k.LAMDONG, DISTRICT)]:
        refused = await write(k, client, sign_as, who, board)
        assert refused.status_code == 403, (who.subject, board, refused.text)
        assert refused.json()["code"] == "out_of_scope"
    for who, board in [
        (province_with_district_writes(k), DISTRICT),
        (CENTRAL_BOARD, "VN"),
        (k.LAMDONG, "VN.68"),
        (k.DALAT, DISTRICT),
    ]:
        written = await write(k, client, sign_as, who, board)
        assert written.status_code in (200, 201), (who.subject, board, written.text)


async def test_boards_above_still_read_the_records_they_may_not_write(k: Any, client: httpx.AsyncClient, sign_as: Any) -> None:
    rule_set_id = await owners_rule_set(k, client, sign_as, DISTRICT)
    plan = await client.post("/plans", json=plan_body(k, DISTRICT, rule_set_id), headers=sign_as(k.DALAT))
    assert plan.status_code == 201, plan.text
    for reader in (CENTRAL_BOARD, k.LAMDONG):
        assert (await client.get(f"/plans/{plan.json()['id']}", headers=sign_as(reader))).status_code == 200
        assert (await client.get(f"/cadence-rules/{rule_set_id}", headers=sign_as(reader))).status_code == 200
        assert [p["id"] for p in (await client.get("/plans", headers=sign_as(reader))).json()] == [plan.json()["id"]]
