"""Fixtures of scheduling's tests: the app on SQLite and PostgreSQL, called as the gateway calls it, and a
way to hand it the registry's and clinical's events exactly as its consumers do (same handlers, one transaction)."""

import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from contracts import roles
from contracts.enums import CadreStatus, ManagementTier, Sex, UnitLevel
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events import parse_payload
from contracts.events.registry import CadreRegistered, CadreSnapshot, UnitCreated, UnitSnapshot
from contracts.scope import Principal
from scheduling import projections
from scheduling.app import create_app
from scheduling.settings import SchedulingSettings
from scheduling.tables import KIT
from servicekit import clock, migrations
from servicekit.testing.events import EventFeed
from servicekit.testing.principals import principal_for, without_tiers

ALL = frozenset(ManagementTier)
TODAY = clock.today()  # the service's "today" is Vietnam's date
YEAR = TODAY.year + 1  # every round lies ahead: "next rounds" and as-of dates stay meaningful whenever this runs

# As the gateway signs them in: each its role's grants and permissions.
ADMIN = principal_for(roles.administrator, subject="user:admin")
# Lâm Đồng's board without the central-tier and treatment-only grants its role also gives: scheduling's
# tests of a board refused a central-tier cadre (convalescence, home visits) are written against it.
LAMDONG = without_tiers(
    principal_for(roles.provincial_board, "VN.68", subject="user:lamdong"), ManagementTier.CENTRAL, ManagementTier.TREATMENT_ONLY
)
DALAT = principal_for(roles.district_board, "VN.68.672", subject="user:dalat")

Sign = Callable[[Principal], dict[str, str]]
Feed = Callable[..., Awaitable[None]]


def day(month: int, dom: int) -> str:
    return date(YEAR, month, dom).isoformat()


def snapshot(**overrides: Any) -> CadreSnapshot:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "full_name": "Nguyễn Văn Đức",
        "date_of_birth": date(1958, 4, 5),
        "sex": Sex.MALE,
        "national_id": f"068{uuid.uuid4().int % 10**9:09d}",
        "tier": ManagementTier.PROVINCIAL_2,
        "status": CadreStatus.ACTIVE,
        "status_since": date(2020, 1, 1),
        "managing_unit": "VN.68",
        "position": "Giám đốc Sở",
        "residence_address": "12 Trần Phú, Phường 3, Đà Lạt",
    }
    values.update(overrides)
    return CadreSnapshot(**values)


UNITS = [
    UnitSnapshot(path="VN", code="VN", name="Việt Nam", level=UnitLevel.NATION, parent_path=None, valid_from=date(1976, 7, 2)),
    UnitSnapshot(
        path="VN.68", code="68", name="tỉnh Lâm Đồng", level=UnitLevel.PROVINCE, parent_path="VN", valid_from=date(1976, 2, 20)
    ),
    UnitSnapshot(
        path="VN.68.672",
        code="672",
        name="thành phố Đà Lạt",
        level=UnitLevel.DISTRICT,
        parent_path="VN.68",
        valid_from=date(2004, 1, 1),
    ),
    UnitSnapshot(
        path="VN.68.673",
        code="673",
        name="thành phố Bảo Lộc",
        level=UnitLevel.DISTRICT,
        parent_path="VN.68",
        valid_from=date(2004, 1, 1),
    ),
]


@pytest.fixture
async def app(database_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path) -> AsyncIterator[FastAPI]:
    migrations.upgrade("scheduling", database_url)
    settings = SchedulingSettings(database_url=database_url, data_dir=tmp_path, internal_public_key_file=internal_keys[1])
    application = create_app(settings, run_workers=False)
    yield application
    await application.state.runtime.db.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scheduling", timeout=30) as http:
        yield http


@pytest.fixture
def feed(app: FastAPI) -> Feed:
    """Apply one event as the consumers do (servicekit's event feed on scheduling's own consumers)."""
    events = EventFeed(projections.consumers(app.state.runtime))

    async def apply(event: DomainEvent, *, at: datetime | None = None) -> None:
        await events.send(event, time=at)

    return apply


@pytest.fixture
async def units(feed: Feed) -> None:
    for unit in UNITS:
        await feed(UnitCreated(unit=unit))


async def register(feed: Feed, **overrides: Any) -> CadreSnapshot:
    cadre = snapshot(**overrides)
    await feed(CadreRegistered(cadre=cadre))
    return cadre


async def outbox_events(app: FastAPI, event_type: str | None = None) -> list[tuple[EventEnvelope, DomainEvent]]:
    runtime = app.state.runtime
    async with runtime.db.transaction() as session:
        rows = (await session.execute(select(KIT.outbox.c.headers, KIT.outbox.c.payload).order_by(KIT.outbox.c.id))).all()
    parsed = []
    for headers, payload in rows:
        envelope = EventEnvelope.from_kafka([(name, value.encode()) for name, value in headers], bytes(payload))
        if event_type is None or envelope.type == event_type:
            parsed.append((envelope, parse_payload(envelope)))
    return parsed


async def outbox_count(app: FastAPI) -> int:
    async with app.state.runtime.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(KIT.outbox)) or 0


def rules_body(**overrides: Any) -> dict[str, Any]:
    """Lâm Đồng: group 1 twice a year, groups 2 and 3 once (Kế hoạch 138-KH); retirees of group 2 once."""
    return {
        "board_unit": "VN.68",
        "year": YEAR,
        "rules": [
            {"tier": "provincial_1", "status": "active", "exams_per_year": 2},
            {"tier": "provincial_1", "status": "retired", "exams_per_year": 2},
            {"tier": "provincial_2", "status": "active", "exams_per_year": 1},
            {"tier": "provincial_2", "status": "retired", "exams_per_year": 1},
            {"tier": "provincial_3", "status": "active", "exams_per_year": 1},
        ],
        **overrides,
    }


def plan_body(rule_set_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "board_unit": "VN.68",
        "year": YEAR,
        "title": f"Kế hoạch khám sức khỏe định kỳ năm {YEAR}",
        "plan_date": TODAY.isoformat(),
        "rule_set_id": rule_set_id,
        "facilities": [
            {
                "code": "68-BVDK",
                "name": "Bệnh viện Đa khoa tỉnh Lâm Đồng",
                "address": "04 Phạm Ngọc Thạch, Đà Lạt",
                "daily_capacity": 2,
            },
            {"code": "68-TTYT-BL", "name": "Trung tâm Y tế Bảo Lộc", "daily_capacity": 5},
        ],
        "rounds": [
            {
                "number": 1,
                "starts_on": day(3, 2),
                "ends_on": day(3, 13),
                "groups": [
                    {"tier": "provincial_1", "facility": "68-BVDK"},
                    {"tier": "provincial_2", "facility": "68-BVDK"},
                    {"tier": "provincial_2", "unit": "VN.68.673", "facility": "68-TTYT-BL"},
                    {"tier": "provincial_3", "facility": "68-BVDK"},
                ],
            },
            {
                "number": 2,
                "starts_on": day(9, 7),
                "ends_on": day(9, 18),
                "groups": [
                    {"tier": "provincial_1", "facility": "68-BVDK"},
                    {"tier": "provincial_2", "facility": "68-BVDK"},
                ],
            },
        ],
        **overrides,
    }


async def make_plan(client: httpx.AsyncClient, sign_as: Sign, **overrides: Any) -> dict[str, Any]:
    rules = await client.post("/cadence-rules", json=rules_body(), headers=sign_as(LAMDONG))
    assert rules.status_code == 201, rules.text
    plan = await client.post("/plans", json=plan_body(rules.json()["id"], **overrides), headers=sign_as(LAMDONG))
    assert plan.status_code == 201, plan.text
    result: dict[str, Any] = plan.json()
    return result


async def invitations_of(
    client: httpx.AsyncClient, sign_as: Sign, who: Principal = LAMDONG, **params: Any
) -> list[dict[str, Any]]:
    answer = await client.get("/invitations", params={"limit": 200, **params}, headers=sign_as(who))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def generated(client: httpx.AsyncClient, sign_as: Sign, **plan: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Lâm Đồng's plan, generated: the plan and its invitations."""
    made = await make_plan(client, sign_as, **plan)
    answer = await client.post(f"/plans/{made['id']}/generate", headers=sign_as(LAMDONG))
    assert answer.status_code == 200, answer.text
    return made, await invitations_of(client, sign_as, plan_id=made["id"])


async def move(client: httpx.AsyncClient, sign_as: Sign, invitation: dict[str, Any], **body: Any) -> httpx.Response:
    """Lâm Đồng changes an invitation's status by hand."""
    return await client.post(f"/invitations/{invitation['id']}/status", json=body, headers=sign_as(LAMDONG))


@pytest.fixture
def k() -> ModuleType:
    """The helpers and constants above, for the test modules (a conftest is not importable by name)."""
    return sys.modules[__name__]
