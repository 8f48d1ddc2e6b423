"""The board-level writes of the authorization matrix: a board's own records (cadence rules, exam plans and
their generation, clinic days one by one and in series, convalescence rules and trips, the issued board
report), written through the gateway by every role on the boards of every relation.

Who may write them is derived from two tables, not from the code under test: the tiers a board of each level
manages (MANAGED) and the role's grants (`Principal.may`). Each cell checks the answer and its effect: the
board's records as the administrator then reads them changed exactly when the write was allowed."""

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from contracts.enums import Action, ManagementTier
from contracts.scope import Principal
from servicekit import clock

API = "/api/v1"
T = ManagementTier
MANAGED: dict[int, tuple[ManagementTier, ...]] = {  # depth of the board's unit -> the tiers its board manages
    0: (T.CENTRAL,),
    1: (T.PROVINCIAL_1, T.PROVINCIAL_2, T.PROVINCIAL_3),
    2: (T.DISTRICT,),
    3: (T.DISTRICT,),
}
YEAR = clock.today().year + 1  # every date written lies ahead, whatever today is
PLACE = "Phòng khám – Quản lý sức khỏe cán bộ"


def managed(board: str) -> tuple[ManagementTier, ...]:
    if board.count(".") == 2 and len(board.rsplit(".", 1)[1]) == 5:  # a commune of today's tree: a commune board
        return (T.COMMUNE,)
    return MANAGED[board.count(".")]


def administers(who: Principal | None, board: str) -> bool:
    """The oracle: a write grant covering the board's unit on a tier that board manages."""
    return who is not None and any(who.may(Action.WRITE, board, tier) for tier in managed(board))


@dataclass
class Writes:
    http: httpx.AsyncClient
    admin: dict[str, str]
    rule_sets: dict[str, str] = field(default_factory=dict)  # board -> the cadence rule set its plans use
    days: Any = field(default_factory=lambda: itertools.count(1))
    known: dict[tuple[object, str], object] = field(default_factory=dict)  # (state, board) -> as last read

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = await self.http.request(method, f"{API}{path}", headers=self.admin, **kwargs)
        assert answer.status_code in (200, 201), (path, answer.text)
        return answer.json()

    async def ids(self, path: str, board: str, params: dict[str, str]) -> frozenset[str]:
        listed = await self.ok("GET", path, params=params)
        return frozenset(str(item.get("id") or item["report_id"]) for item in listed if item["board_unit"] == board)

    async def prepare(self, board: str) -> None:
        """What the writes rest on, made by the administrator: a rule set (plans) and a convalescence rule (trips)."""
        made = await self.ok("POST", "/scheduling/cadence-rules", json=rule_set_body(board))
        self.rule_sets[board] = str(made["id"])
        await self.ok("POST", "/scheduling/convalescence/rules", json=convalescence_rule(board))


def rule_set_body(board: str) -> dict[str, Any]:
    return {"board_unit": board, "year": YEAR, "rules": [{"tier": managed(board)[-1], "status": "active", "exams_per_year": 1}]}


def convalescence_rule(board: str) -> dict[str, Any]:
    return {"board_unit": board, "valid_from": date(YEAR - 1, 1, 1).isoformat(), "tiers": [managed(board)[-1]]}


def plan_body(board: str, rule_set_id: str) -> dict[str, Any]:
    return {
        "board_unit": board,
        "year": YEAR,
        "title": f"Kế hoạch khám sức khỏe định kỳ {board}",
        "plan_date": clock.today().isoformat(),
        "rule_set_id": rule_set_id,
        "facilities": [{"code": "PK", "name": "Phòng khám", "daily_capacity": 5}],
        "rounds": [
            {
                "number": 1,
                "starts_on": date(YEAR, 3, 2).isoformat(),
                "ends_on": date(YEAR, 3, 13).isoformat(),
                "groups": [{"tier": managed(board)[-1], "facility": "PK"}],
            }
        ],
    }


Request = tuple[str, str, dict[str, Any]]  # method, path, httpx keyword arguments
State = Callable[[Writes, str, Any], Awaitable[object]]  # what the administrator reads of the board afterwards


@dataclass(frozen=True)
class BoardWrite:
    name: str
    permission: str
    success: int
    request: Callable[[Writes, str], Awaitable[tuple[Request, Any]]]  # (the request, what `state` needs)
    state: State
    fresh: object = None  # the state before every write when each writes on a record of its own, else read

    async def before(self, w: Writes, board: str, handle: Any) -> object:
        """The board's state before the write: what the last cell on the same records left, read once."""
        if self.fresh is not None:
            return self.fresh
        key = (self.state, board)
        if key not in w.known:
            w.known[key] = await self.state(w, board, handle)
        return w.known[key]

    async def after(self, w: Writes, board: str, handle: Any) -> object:
        state = await self.state(w, board, handle)
        if self.fresh is None:
            w.known[self.state, board] = state
        return state


def _const(request: Callable[[Writes, str], Request]) -> Callable[[Writes, str], Awaitable[tuple[Request, Any]]]:
    async def make(w: Writes, board: str) -> tuple[Request, Any]:
        return request(w, board), None

    return make


def _listing(path: str, unit_param: str | None = None, **params: str) -> State:
    """The ids of the board's records in a listing (asked for the board's unit when the listing needs one)."""

    async def state(w: Writes, board: str, _: Any) -> object:
        return await w.ids(path, board, {**params, unit_param: board} if unit_param else params)

    return state


async def _fresh_plan(w: Writes, board: str) -> tuple[Request, Any]:
    plan = await w.ok("POST", "/scheduling/plans", json=plan_body(board, w.rule_sets[board]))
    return ("POST", f"/scheduling/plans/{plan['id']}/generate", {}), plan["id"]


async def _generated(w: Writes, board: str, plan_id: Any) -> object:
    return (await w.ok("GET", f"/scheduling/plans/{plan_id}"))["generated_at"] is not None


def _clinic_day(w: Writes, board: str) -> Request:
    held_on = date(YEAR, 1, 1) + timedelta(days=next(w.days))
    body = {"board_unit": board, "held_on": held_on.isoformat(), "capacity": 2, "place": PLACE}
    return "POST", "/scheduling/clinic-sessions", {"json": body}


def _clinic_series(w: Writes, board: str) -> Request:
    n = next(w.days)  # one month of a later year per write: a series never meets a day already held
    body = {
        "board_unit": board,
        "year": YEAR + 1 + n // 12,
        "from_month": 1 + n % 12,
        "months": 1,
        "days_of_month": [28],
        "capacity": 2,
        "place": PLACE,
    }
    return "POST", "/scheduling/clinic-sessions/series", {"json": body}


def _trip(w: Writes, board: str) -> Request:
    body = {
        "board_unit": board,
        "title": f"Nghỉ dưỡng {board}",
        "destination": "Khu nghỉ dưỡng Vũng Tàu",
        "starts_on": date(YEAR, 6, 1).isoformat(),
        "ends_on": date(YEAR, 6, 7).isoformat(),
        "quota": 5,
    }
    return "POST", "/scheduling/convalescence/trips", {"json": body}


SESSIONS = _listing("/scheduling/clinic-sessions", "board_unit", **{"from": date(YEAR, 1, 1).isoformat(), "to": "2100-12-31"})
BOARD_WRITES = (
    BoardWrite(
        "cadence rules",
        "scheduling.write",
        201,
        _const(lambda w, b: ("POST", "/scheduling/cadence-rules", {"json": rule_set_body(b)})),
        _listing("/scheduling/cadence-rules", "board_unit"),
    ),
    BoardWrite(
        "exam plan",
        "scheduling.write",
        201,
        _const(lambda w, b: ("POST", "/scheduling/plans", {"json": plan_body(b, w.rule_sets[b])})),
        _listing("/scheduling/plans", year=str(YEAR)),
    ),
    BoardWrite("plan generation", "scheduling.write", 200, _fresh_plan, _generated, fresh=False),
    BoardWrite("clinic day", "scheduling.write", 201, _const(_clinic_day), SESSIONS),
    BoardWrite("clinic series", "scheduling.write", 201, _const(_clinic_series), SESSIONS),
    BoardWrite(
        "convalescence rule",
        "scheduling.write",
        201,
        _const(lambda w, b: ("POST", "/scheduling/convalescence/rules", {"json": convalescence_rule(b)})),
        _listing("/scheduling/convalescence/rules", "board_unit"),
    ),
    BoardWrite(
        "convalescence trip", "scheduling.write", 201, _const(_trip), _listing("/scheduling/convalescence/trips", "board_unit")
    ),
    BoardWrite(
        "issued board report",
        "reporting.read",
        201,
        _const(lambda w, b: ("POST", "/reporting/reports/board/issued", {"params": {"unit": b}})),
        _listing("/reporting/reports/board/issued", "unit"),
    ),
)


def expected(write: BoardWrite, who: Principal | None, board: str) -> object:
    """401 without a token, 403 from the gateway without the permission, else the success status when the
    caller administers the board and "refused" (403 forbidden, or 404 for a board it cannot even see) otherwise."""
    if who is None:
        return 401
    if not who.has_permission(write.permission):
        return 403
    return write.success if administers(who, board) else "refused"


def outcome(expectation: object, status: int) -> object:
    return "refused" if expectation == "refused" and status in (403, 404) else status
