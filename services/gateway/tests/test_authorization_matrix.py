"""The authorization matrix, generated from tables: roles × scope relations × tier (inside / outside the
role's tiers) × operations, through the gateway in front of the real services (in process).

Expectations come from an oracle that knows nothing of SQL: `Principal.may` over the role's grants as
written in the ROLES table. Lists and aggregates are checked row by row ("no foreign row") and total by
total. The relation "merged" is played by a twin of each role whose grants were written on units that a
reorganisation then recoded into the role's home units (one source each, a new version of each target: a grant
follows such a change, and never one that would widen it, gateway.domain.grant_successors): the gateway must
have remapped them, so the twin must see exactly what the role sees. Homes are a district (the boards of
before 2025), a province, and a commune of today's tree (the commune boards since 1 July 2025). A final sweep
calls every operation of the platform's OpenAPI as principals who may not use it, expecting 401 or 403 from the
gateway itself.
"""

import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway_harness import InProcessPlatform, PlatformFactory, client, user
from matrix_board_writes import BOARD_WRITES, Writes, expected, outcome

from contracts import roles
from contracts.enums import Action, ManagementTier
from contracts.events.registry import UnitSnapshot, UnitsReorganized
from contracts.scope import Grant, Principal, PrincipalKind, unit_covers
from devstack.demo import demo_units
from gateway.forwarding.policy import allowed
from gateway.identity import PrincipalsFile

API = "/api/v1"
T = ManagementTier
PROVINCE, DISTRICT = "VN.68", "VN.68.672"
COMMUNE = "VN.68.26800"  # a commune of today's tree (since 2025-07-01), with its commune board
# recoded into PROVINCE, DISTRICT and COMMUNE before the matrix runs (a new version of each begins)
OLD_PROVINCE, OLD_DISTRICT, OLD_COMMUNE = "VN.69", "VN.69.699", "VN.69.26899"
HOMES, OLD_HOMES = (PROVINCE, DISTRICT, COMMUNE), (OLD_PROVINCE, OLD_DISTRICT, OLD_COMMUNE)
DISTRICT_HOME, PROVINCE_HOME, COMMUNE_HOME = 0, 1, 2  # which column of RELATIONS a role sees from
EXTRA_UNITS = [
    {
        "path": "VN.56",
        "code": "56",
        "name": "Tỉnh Khánh Hòa",
        "level": "province",
        "parent_path": "VN",
        "valid_from": "1989-07-01",
    },
    {
        "path": "VN.56.568",
        "code": "568",
        "name": "Thành phố Nha Trang",
        "level": "district",
        "parent_path": "VN.56",
        "valid_from": "1977-03-30",
    },
    {
        "path": "VN.68.672.24778",
        "code": "24778",
        "name": "Phường 1",
        "level": "commune",
        "parent_path": "VN.68.672",
        "valid_from": "2004-01-01",
    },
    *(
        {"path": path, "code": path[-5:], "name": name, "level": "commune", "parent_path": "VN.68", "valid_from": "2025-07-01"}
        for path, name in ((COMMUNE, "Phường Xuân Hương - Đà Lạt"), ("VN.68.26801", "Phường Cam Ly - Đà Lạt"))
    ),
]
LEVEL = {
    "VN": "nation",
    "VN.68": "province",
    "VN.56": "province",
    "VN.68.672.24778": "commune",
    COMMUNE: "commune",
    "VN.68.26801": "commune",
}
TIERS_AT = {
    "nation": [T.CENTRAL],
    "province": [T.CENTRAL, T.PROVINCIAL_1, T.PROVINCIAL_2, T.PROVINCIAL_3, T.TREATMENT_ONLY],
    "district": [T.DISTRICT, T.TREATMENT_ONLY],
    "commune": [T.DISTRICT, T.COMMUNE, T.TREATMENT_ONLY],
}


def level_of(unit: str) -> str:
    return LEVEL.get(unit, "district")


@dataclass(frozen=True)
class Role:
    kind: PrincipalKind | None  # None: anonymous
    grants: Callable[[str, str, str], tuple[Grant, ...]]  # (province, district, commune) -> grants
    permissions: frozenset[str]
    home: int  # DISTRICT_HOME, PROVINCE_HOME or COMMUNE_HOME
    tiers: tuple[ManagementTier, ...]  # the tiers it works with, in order of preference
    is_client: bool = False


ROLES: dict[str, Role] = {
    "central": Role(
        PrincipalKind.STAFF, lambda p, d, c: roles.central_board(), roles.STAFF_PERMISSIONS, PROVINCE_HOME, (T.CENTRAL,)
    ),
    "provincial": Role(
        PrincipalKind.STAFF,
        lambda p, d, c: roles.provincial_board(p),
        roles.STAFF_PERMISSIONS,
        PROVINCE_HOME,
        (T.PROVINCIAL_2, T.DISTRICT),
    ),
    "district": Role(
        PrincipalKind.STAFF, lambda p, d, c: roles.district_board(d), roles.STAFF_PERMISSIONS, DISTRICT_HOME, (T.DISTRICT,)
    ),
    "delegated_district": Role(
        PrincipalKind.STAFF, lambda p, d, c: roles.delegated_district(d), roles.STAFF_PERMISSIONS, DISTRICT_HOME, (T.DISTRICT,)
    ),
    "commune": Role(
        PrincipalKind.STAFF, lambda p, d, c: roles.commune_board(c), roles.STAFF_PERMISSIONS, COMMUNE_HOME, (T.COMMUNE,)
    ),
    "delegated_commune": Role(
        PrincipalKind.STAFF, lambda p, d, c: roles.delegated_commune(c), roles.STAFF_PERMISSIONS, COMMUNE_HOME, (T.COMMUNE,)
    ),
    "doctor": Role(
        PrincipalKind.DOCTOR,
        lambda p, d, c: roles.expert_council_doctor(p),
        roles.DOCTOR_PERMISSIONS,
        PROVINCE_HOME,
        (T.PROVINCIAL_1, T.DISTRICT),
    ),
    "his_client": Role(
        PrincipalKind.HIS,
        lambda p, d, c: roles.his_client(p),
        roles.HIS_PERMISSIONS,
        PROVINCE_HOME,
        (T.PROVINCIAL_3, T.DISTRICT),
        True,
    ),
    "auditor": Role(
        PrincipalKind.AUDITOR, lambda p, d, c: roles.auditor(d), roles.AUDITOR_PERMISSIONS, DISTRICT_HOME, (T.DISTRICT,)
    ),
    "aggregation_job": Role(
        PrincipalKind.AGGREGATION_JOB,
        lambda p, d, c: roles.aggregation_job(),
        roles.AGGREGATION_JOB_PERMISSIONS,
        PROVINCE_HOME,
        (T.PROVINCIAL_2, T.DISTRICT),
        True,
    ),
    "anonymous": Role(None, lambda p, d, c: (), frozenset(), PROVINCE_HOME, (T.DISTRICT, T.PROVINCIAL_2)),
}
# Two more roles for the board-level writes: the administrator (every board's records) and a provincial board
# writing for its district boards under a delegation (their records too, not the central board's).
BOARD_ROLES: dict[str, Role] = {
    **ROLES,
    "administrator": Role(
        PrincipalKind.ADMIN, lambda p, d, c: roles.administrator(), roles.ADMIN_PERMISSIONS, PROVINCE_HOME, (T.CENTRAL,)
    ),
    "delegating_provincial": Role(
        PrincipalKind.STAFF,
        lambda p, d, c: roles.provincial_board(p, delegated_write_districts=True),
        roles.STAFF_PERMISSIONS,
        PROVINCE_HOME,
        (T.PROVINCIAL_2, T.DISTRICT),
    ),
}
RELATIONS: dict[str, tuple[str, str, str]] = {  # relation -> unit seen from a district, a province, a commune home
    "own": (DISTRICT, PROVINCE, COMMUNE),
    "child": ("VN.68.672.24778", DISTRICT, COMMUNE),  # a commune has no unit below it
    "sibling": ("VN.68.673", "VN.56", "VN.68.26801"),
    "parent": (PROVINCE, "VN", PROVINCE),
    "other_province": ("VN.56.568", "VN.56.568", "VN.56.568"),
    "merged": (DISTRICT, PROVINCE, COMMUNE),
}
VARIANTS = ("in_tier", "out_of_tier")


def oracle(name: str) -> Principal | None:
    role = BOARD_ROLES[name]
    if role.kind is None:
        return None
    return Principal(subject=name, kind=role.kind, grants=role.grants(*HOMES), permissions=role.permissions)


def target_tier(role: Role, unit: str, variant: str) -> ManagementTier:
    valid = TIERS_AT[level_of(unit)]
    inside = next((t for t in role.tiers if t in valid), valid[0])
    if variant == "in_tier":
        return inside
    held = {t for g in role.grants(*HOMES) for t in g.tiers}
    return next((t for t in valid if t not in held), next((t for t in reversed(valid) if t != inside), inside))


def principals() -> PrincipalsFile:
    users = [user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS)]
    users.append(user("nobody", PrincipalKind.STAFF, (), ()))
    clients = []
    for name, role in BOARD_ROLES.items():
        if role.kind is None:
            continue
        for login, homes in (
            (name, (PROVINCE, DISTRICT, COMMUNE)),
            (f"{name}-premerger", (OLD_PROVINCE, OLD_DISTRICT, OLD_COMMUNE)),
        ):
            grants = role.grants(*homes)
            if role.is_client:
                clients.append(client(login, grants, role.permissions))
            else:
                users.append(user(login, role.kind, grants, role.permissions))
    return PrincipalsFile(users=users, clients=clients)


@dataclass
class Cadre:
    id: str
    unit: str
    tier: ManagementTier


@dataclass
class Matrix:
    platform: InProcessPlatform
    headers: dict[str, dict[str, str]]
    pool: dict[tuple[str, str], Cadre]
    cells: int = 0
    failures: list[str] = field(default_factory=list)
    writes: dict[str, int] = field(default_factory=lambda: {"allowed": 0, "unexpected allows": 0, "unexpected denies": 0})

    def wrote(self, expected_allowed: bool, allowed: bool) -> None:
        """A board-level write's effect, counted by kind (a failure is recorded by `check` as well)."""
        self.writes["allowed"] += allowed
        self.writes["unexpected allows"] += allowed and not expected_allowed
        self.writes["unexpected denies"] += expected_allowed and not allowed

    def check(self, cell: str, expected: object, actual: object) -> None:
        self.cells += 1
        if expected != actual:
            self.failures.append(f"{cell}: expected {expected!r}, got {actual!r}")

    def visible(self, who: Principal | None, *actions: Action, under: str | None = None) -> set[str]:
        return {
            c.id
            for c in self.pool.values()
            if who is not None
            and any(who.may(a, c.unit, c.tier) for a in actions)
            and (under is None or unit_covers(under, c.unit))
        }


MIN_CELL = 10  # reporting's default minimum cell size


def only_aggregates(who: Principal, unit: str) -> bool:
    """Some tier of the unit is visible to `who` only through an aggregate grant: reporting then hides small cells."""
    read = {t for g in who.grants if Action.READ in g.actions and unit_covers(g.unit_path, unit) for t in g.tiers}
    aggregated = {
        t
        for g in who.grants
        if Action.AGGREGATE in g.actions and (unit_covers(g.unit_path, unit) or unit_covers(unit, g.unit_path))
        for t in g.tiers
    }
    return bool(aggregated - read)


async def login(platform: InProcessPlatform, name: str) -> dict[str, str]:
    base = name.removesuffix("-premerger")
    if BOARD_ROLES.get(base) and BOARD_ROLES[base].is_client:
        return {"authorization": f"Bearer {await platform.client_token(name)}"}
    return await platform.headers(name)


def denied_status(who: Principal | None, permission: str) -> int | None:
    if who is None:
        return 401
    return None if who.has_permission(permission) else 403


NATIONAL_IDS = itertools.count(1)


def new_cadre(unit: str, tier: ManagementTier) -> dict[str, Any]:
    return {
        "full_name": "Phạm Thị Ma Trận",
        "date_of_birth": "1955-06-15",
        "sex": "female",
        "national_id": f"068155{next(NATIONAL_IDS):06d}",  # province 068, a woman born 19(55)
        "tier": tier.value,
        "managing_unit": unit,
        "status": "retired",
        # the district tier was managed until 2025-06-30, the commune tier since 2025-07-01 (registry tier rules)
        "status_since": "2025-08-01" if tier is T.COMMUNE else "2020-01-01",
    }


def recoded_unit(path: str) -> UnitSnapshot:
    parent, code = path.rsplit(".", 1)
    return UnitSnapshot(path=path, code=code, name=path, level=level_of(path), parent_path=parent, valid_from=date(2025, 7, 1))


async def build(make_platform: PlatformFactory) -> Matrix:
    platform = await make_platform(principals(), rate_per_second=0)
    http = platform.http
    admin = await platform.headers("admin")
    (await http.post(f"{API}/registry/units/import", json=demo_units() + EXTRA_UNITS, headers=admin)).raise_for_status()
    pool: dict[tuple[str, str], Cadre] = {}
    for role in ROLES.values():
        for relation, variant in itertools.product(RELATIONS, VARIANTS):
            unit = RELATIONS[relation][role.home]
            tier = target_tier(role, unit, variant)
            if (unit, tier) not in pool:
                created = await http.post(f"{API}/registry/cadres", json=new_cadre(unit, tier), headers=admin)
                assert created.status_code == 201, created.text
                pool[(unit, tier)] = Cadre(created.json()["id"], unit, tier)
    await platform.deliver()
    recoded = {OLD_PROVINCE: PROVINCE, OLD_DISTRICT: DISTRICT, OLD_COMMUNE: COMMUNE}
    merge = UnitsReorganized(  # one source each, and a new version of each target: the grants move, never widen
        kind="merge",
        effective_date=date(2025, 7, 1),
        retired_units=[],
        created_units=[recoded_unit(new) for new in recoded.values()],
        mapping={old: [new] for old, new in recoded.items()},
        moved_cadres=0,
    )
    await platform.publish_to_gateway(merge, PROVINCE)
    headers: dict[str, dict[str, str]] = {}
    for name, role in BOARD_ROLES.items():
        if role.kind is not None:
            headers[name] = await login(platform, name)
            headers[f"{name}-premerger"] = await login(platform, f"{name}-premerger")
    headers["anonymous"] = headers["anonymous-premerger"] = {}
    headers["nobody"] = await platform.headers("nobody")
    return Matrix(platform, headers, pool)


def cells() -> list[tuple[str, str, str]]:
    return list(itertools.product(ROLES, RELATIONS, VARIANTS))


async def run_target_reads(m: Matrix) -> None:
    http = m.platform.http
    for name, relation, variant in cells():
        role, who = ROLES[name], oracle(name)
        unit = RELATIONS[relation][role.home]
        target = m.pool[(unit, target_tier(role, unit, variant))]
        caller = m.headers[f"{name}-premerger" if relation == "merged" else name]
        cell = f"{name}/{relation}/{variant}"
        may_read = who is not None and who.may(Action.READ, target.unit, target.tier)

        single = await http.get(f"{API}/registry/cadres/{target.id}", headers=caller)
        m.check(
            f"{cell} registry get", denied_status(who, "registry.cadres.read") or (200 if may_read else 404), single.status_code
        )
        history = await http.get(f"{API}/registry/cadres/{target.id}/history", headers=caller)
        m.check(
            f"{cell} registry history",
            denied_status(who, "registry.cadres.read") or (200 if may_read else 404),
            history.status_code,
        )
        timeline = await http.get(f"{API}/clinical/cadres/{target.id}/timeline", headers=caller)
        m.check(
            f"{cell} clinical timeline", denied_status(who, "clinical.read") or (200 if may_read else 404), timeline.status_code
        )

        listed = await http.get(f"{API}/registry/cadres", params={"unit": unit, "limit": 200}, headers=caller)
        m.check(f"{cell} registry list status", denied_status(who, "registry.cadres.read") or 200, listed.status_code)
        if listed.status_code == 200:
            ids = {c["id"] for c in listed.json()["items"]}
            m.check(f"{cell} registry list rows", m.visible(who, Action.READ, under=unit) & m.visible(who, Action.READ), ids)

        counts = await http.get(f"{API}/registry/cadre-counts", params={"unit": unit}, headers=caller)
        m.check(f"{cell} registry counts status", denied_status(who, "registry.cadres.read") or 200, counts.status_code)
        if counts.status_code == 200:
            aggregate = len(m.visible(who, Action.READ, Action.AGGREGATE, under=unit))  # counts are de-identified aggregates
            rows = counts.json()
            if who is not None and only_aggregates(who, unit):  # small cells and their complements hidden, as 0
                shown = [r["count"] for r in rows if "count" not in r["suppressed"]]
                m.check(f"{cell} registry counts not small", [], [n for n in shown if 0 < n < MIN_CELL])
                m.check(f"{cell} registry counts hidden as 0", [], [r for r in rows if r["suppressed"] and r["count"]])
                # every row counts someone: with a row hidden, what is shown adds up to less than the truth
                m.check(
                    f"{cell} registry counts",
                    aggregate if len(shown) == len(rows) else True,
                    sum(shown) if len(shown) == len(rows) else sum(shown) < aggregate,
                )
            else:
                m.check(f"{cell} registry counts", aggregate, sum(r["count"] for r in rows))

        report = await http.get(f"{API}/reporting/cadre-counts", params={"unit": unit}, headers=caller)
        m.check(f"{cell} reporting counts status", denied_status(who, "reporting.read") or 200, report.status_code)
        if report.status_code == 200:
            expected_total = len(m.visible(who, Action.READ, Action.AGGREGATE, under=unit))
            answer = report.json()
            if who is not None and only_aggregates(who, unit) and "total" in answer.get("suppressed", []):
                # small cells (and their complements) are hidden from an aggregate-only caller: never the real number
                m.check(f"{cell} reporting counts suppressed", 0, answer["total"])
                # hidden because it is small, or as the complement of a small row (then a row is hidden too)
                m.check(f"{cell} reporting counts small", True, expected_total < MIN_CELL or len(answer["suppressed"]) > 1)
            else:
                if who is not None and only_aggregates(who, unit):
                    m.check(f"{cell} reporting counts not small", True, expected_total == 0 or expected_total >= MIN_CELL)
                m.check(f"{cell} reporting counts", expected_total, answer["total"])

        trail = await http.get(f"{API}/gateway/audit", params={"cadre_id": target.id, "limit": 200}, headers=caller)
        m.check(f"{cell} audit status", denied_status(who, "audit.read") or 200, trail.status_code)
        if trail.status_code == 200 and who is not None:
            foreign = [r["seq"] for r in trail.json()["items"] if not audit_visible(m, who, r)]
            m.check(f"{cell} audit rows", [], foreign)


def audit_visible(m: Matrix, auditor: Principal, record: dict[str, Any]) -> bool:
    by_id = {c.id: c for c in m.pool.values()}
    units = {g.unit_path for g in auditor.grants if Action.READ in g.actions}
    actor_unit = record.get("actor_unit")
    if actor_unit and any(unit_covers(u, actor_unit) for u in units):
        return True
    return any(s in by_id and auditor.may(Action.READ, by_id[s].unit, by_id[s].tier) for s in record["subjects"])


async def run_break_glass(m: Matrix) -> None:
    http = m.platform.http
    for name, relation, variant in cells():
        role, who = ROLES[name], oracle(name)
        unit = RELATIONS[relation][role.home]
        target = m.pool[(unit, target_tier(role, unit, variant))]
        caller = m.headers[f"{name}-premerger" if relation == "merged" else name]
        body = {"cadre_id": target.id, "reason": "matrix: urgent consultation needs the record"}
        answer = await http.post(f"{API}/gateway/break-glass", json=body, headers=caller)
        may_read = who is not None and who.may(Action.READ, target.unit, target.tier)
        expected = denied_status(who, "gateway.break_glass.request") or (409 if may_read else 201)
        m.check(f"{name}/{relation}/{variant} break glass", expected, answer.status_code)


async def run_writes(m: Matrix) -> None:
    http = m.platform.http
    admin = await m.platform.headers("admin")
    created_allowed = 0
    for index, (name, relation, variant) in enumerate(cells()):
        role, who = ROLES[name], oracle(name)
        unit = RELATIONS[relation][role.home]
        tier = target_tier(role, unit, variant)
        target = m.pool[(unit, tier)]
        caller = m.headers[f"{name}-premerger" if relation == "merged" else name]
        cell = f"{name}/{relation}/{variant}"
        may_write = who is not None and who.may(Action.WRITE, unit, tier)

        phone = f"0912{index:06d}"
        patched = await http.patch(f"{API}/registry/cadres/{target.id}", json={"phone": phone}, headers=caller)
        denial = denied_status(who, "registry.cadres.write")
        expected: object = 401 if who is None else (200 if denial is None and may_write else "refused")
        outcome = "refused" if patched.status_code in (403, 404) else patched.status_code  # refused: forbidden or hidden
        m.check(f"{cell} registry update", expected, outcome)
        now = (await http.get(f"{API}/registry/cadres/{target.id}", headers=admin)).json()["phone"]
        m.check(f"{cell} registry update effect", expected == 200, now == phone)

        created = await http.post(f"{API}/registry/cadres", json=new_cadre(unit, tier), headers=caller)
        m.check(f"{cell} registry create", denial or (201 if may_write else 403), created.status_code)
        created_allowed += created.status_code == 201
    total = (await http.get(f"{API}/registry/cadres", params={"limit": 1}, headers=admin)).json()["total"]
    m.check("refused creations changed nothing", len(m.pool) + created_allowed, total)


BOARD_RELATIONS = {**RELATIONS, "nation": ("VN", "VN", "VN")}  # the central board's own unit, from every home


async def run_board_writes(m: Matrix) -> None:
    """Every board-level write × every role × the boards of every relation: answer and effect (expected from
    matrix_board_writes.administers: the tiers a board of each level manages, and the role's grants)."""
    http = m.platform.http
    w = Writes(http, await m.platform.headers("admin"))
    for board in sorted({unit for pair in BOARD_RELATIONS.values() for unit in pair}):
        await w.prepare(board)
    for write, name, relation in itertools.product(BOARD_WRITES, BOARD_ROLES, BOARD_RELATIONS):
        role, who = BOARD_ROLES[name], oracle(name)
        board = BOARD_RELATIONS[relation][role.home]
        caller = m.headers[f"{name}-premerger" if relation == "merged" else name]
        (method, path, options), handle = await write.request(w, board)
        before = await write.before(w, board, handle)
        answer = await http.request(method, f"{API}{path}", headers=caller, **options)
        want = expected(write, who, board)
        cell = f"{name}/{relation} {write.name} on {board}"
        m.check(cell, want, outcome(want, answer.status_code))
        changed = before != await write.after(w, board, handle)
        m.check(f"{cell} effect", want == write.success, changed)
        m.wrote(want == write.success, changed or answer.status_code == write.success)


ROLE_OPERATIONS: list[tuple[str, str, str, Callable[[Principal | None], object]]] = [
    ("GET", "/registry/units", "registry.units.read", lambda who: None),
    ("GET", "/gateway/grants", "gateway.grants.read", lambda who: None),
    ("GET", "/gateway/principals", "gateway.grants.read", lambda who: None),
    ("GET", "/gateway/audit/verify", "audit.read", lambda who: None),
    ("GET", "/gateway/break-glass", "gateway.break_glass.review", lambda who: None),
]


async def run_role_operations(m: Matrix) -> None:
    http = m.platform.http
    for name in ROLES:
        who = oracle(name)
        for suffix in ("", "-premerger"):
            caller = m.headers[f"{name}{suffix}"]
            for method, path, permission, _ in ROLE_OPERATIONS:
                answer = await http.request(method, f"{API}{path}", headers=caller)
                m.check(f"{name}{suffix} {method} {path}", denied_status(who, permission) or 200, answer.status_code)
            for service in ("scheduling/roster/summary", "clinical/patients/summary"):
                permission = "scheduling.read" if service.startswith("scheduling") else "clinical.read"
                answer = await http.get(f"{API}/{service}", headers=caller)
                m.check(f"{name}{suffix} GET {service}", denied_status(who, permission) or 200, answer.status_code)
                if answer.status_code == 200:
                    m.check(f"{name}{suffix} {service} count", len(m.visible(who, Action.READ)), answer.json()["cadres"])
            me = await http.get(f"{API}/auth/me", headers=caller)
            m.check(f"{name}{suffix} me", 401 if who is None else 200, me.status_code)
            if who is not None and me.status_code == 200:
                m.check(
                    f"{name}{suffix} grants in force",
                    sorted(g.unit_path for g in who.grants),
                    sorted(g["unit_path"] for g in me.json()["grants"]),
                )


GATEWAY_PERMISSIONS = {
    ("GET", f"{API}/gateway/principals"): "gateway.grants.read",
    ("GET", f"{API}/gateway/grants"): "gateway.grants.read",
    ("POST", f"{API}/gateway/grants"): "gateway.grants.write",
    ("POST", f"{API}/gateway/grants/{{grant_id}}/revoke"): "gateway.grants.write",
    ("POST", f"{API}/gateway/break-glass"): "gateway.break_glass.request",
    ("GET", f"{API}/gateway/break-glass"): "gateway.break_glass.review",
    ("POST", f"{API}/gateway/break-glass/{{glass_id}}/acknowledge"): "gateway.break_glass.review",
    ("GET", f"{API}/gateway/audit"): "audit.read",
    ("GET", f"{API}/gateway/audit/verify"): "audit.read",
    ("POST", f"{API}/gateway/audit/purge"): "audit.purge",
    **{
        (method, f"{API}/gateway/{route}"): "gateway.identities.administer"
        for method, route in (
            ("GET", "roles"),
            ("GET", "users"),
            ("POST", "users"),
            ("GET", "users/{username}"),
            ("POST", "users/{username}/disable"),
            ("POST", "users/{username}/enable"),
            ("POST", "users/{username}/unlock"),
            ("POST", "users/{username}/password"),
            ("GET", "his-clients"),
            ("POST", "his-clients"),
            ("GET", "his-clients/{client_id}"),
            ("POST", "his-clients/{client_id}/disable"),
            ("POST", "his-clients/{client_id}/enable"),
            ("POST", "his-clients/{client_id}/rotate-secret"),
        )
    },
}
# The gateway's own operations any signed-in caller may use (each answers for the caller alone).
SIGNED_IN_ONLY = {
    ("GET", f"{API}/auth/me"),
    ("POST", f"{API}/auth/logout"),
    ("GET", f"{API}/gateway/break-glass/mine"),
}
PUBLIC = {f"{API}/auth/token", f"{API}/auth/revoke", "/healthz", "/readyz"}


async def run_sweep(m: Matrix) -> int:
    """Every operation of every service, as callers who may not use it: refused at the gateway."""
    http = m.platform.http
    document = (await http.get("/openapi.json")).json()
    operations = 0
    sweepers = ["anonymous", "nobody", "his_client", "aggregation_job", "auditor"]
    for path, methods in document["paths"].items():
        if path in PUBLIC:
            continue
        for method in methods:
            if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                continue
            operations += 1
            concrete = re.sub(r"\{[^}]*\}", str(uuid.uuid4()), path)
            for name in sweepers:
                who = (
                    None
                    if name == "anonymous"
                    else (Principal(subject="nobody", kind=PrincipalKind.STAFF) if name == "nobody" else oracle(name))
                )
                if who is None:
                    expected: int | None = 401
                elif path.startswith(f"{API}/gateway/") or path.startswith(f"{API}/auth/"):
                    if (method.upper(), path) in SIGNED_IN_ONLY:
                        continue
                    permission = GATEWAY_PERMISSIONS.get((method.upper(), path))
                    if permission is None:  # a new gateway operation must say who may use it
                        m.check(f"sweep {method.upper()} {path} has an expected permission", True, False)
                        continue
                    expected = None if who.has_permission(permission) else 403
                else:
                    service, rest = path.removeprefix(f"{API}/").split("/", 1)
                    expected = None if allowed(who.permissions, service, method.upper(), rest) else 403
                if expected is None:
                    continue  # allowed by function: the scope cells above cover what it may see
                body = {} if method.upper() in ("POST", "PUT", "PATCH") else None
                answer = await http.request(method.upper(), concrete, json=body, headers=m.headers[name])
                m.check(f"sweep {name} {method.upper()} {path}", expected, answer.status_code)
    return operations


async def test_authorization_matrix(make_platform: PlatformFactory) -> None:
    m = await build(make_platform)
    await run_target_reads(m)
    await run_role_operations(m)
    await run_break_glass(m)
    await run_writes(m)
    await run_board_writes(m)
    swept = await run_sweep(m)
    verified = (await m.platform.http.get(f"{API}/gateway/audit/verify", headers=m.headers["auditor"])).json()
    m.check("the audit chain verifies after the run", True, verified["valid"])
    assert not m.failures, f"{len(m.failures)} of {m.cells} cells failed:\n" + "\n".join(m.failures[:80])
    assert m.cells >= 2500, m.cells
    assert swept >= 40, swept  # every operation of every service was swept
    assert m.writes["unexpected allows"] == m.writes["unexpected denies"] == 0, m.writes
    assert m.writes["allowed"] > 0, m.writes  # the writes allowed did happen: the refusals are not a broken request
    print(f"authorization matrix: {m.cells} cells, {swept} operations swept, {verified['records_checked']} audit records")
    print(f"board-level writes: {len(BOARD_WRITES) * len(BOARD_ROLES) * len(BOARD_RELATIONS)} calls, {m.writes}")
