"""Helpers of the registry's API tests (principals, request bodies, the `api` fixture on SQLite and PostgreSQL)."""

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from contracts.enums import PROVINCIAL_TIERS, Action, ManagementTier
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, PrincipalKind
from devstack.demo_registry import lam_dong_2025
from registry.app import create_app
from registry.settings import RegistrySettings
from registry.tables import KIT
from servicekit import migrations

ALL = frozenset(ManagementTier)
RW = frozenset({Action.READ, Action.WRITE})
STAFF: frozenset[str] = frozenset(
    {
        Permission.REGISTRY_CADRES_READ,
        Permission.REGISTRY_CADRES_WRITE,
        Permission.REGISTRY_UNITS_READ,
        Permission.REGISTRY_PROPOSALS_PROPOSE,
        Permission.REGISTRY_PROPOSALS_APPRAISE,
    }
)
ADMIN_PERMISSIONS = STAFF | {
    Permission.REGISTRY_UNITS_WRITE,
    Permission.REGISTRY_PROPOSALS_APPROVE,
    Permission.REGISTRY_CARDS_LOOKUP,
}


def principal(name: str, grants: tuple[Grant, ...], permissions: frozenset[str] = STAFF) -> Principal:
    return Principal(subject=f"user:{name}", kind=PrincipalKind.STAFF, permissions=permissions, grants=grants)


ADMIN = Principal(
    subject="user:admin",
    kind=PrincipalKind.ADMIN,
    permissions=ADMIN_PERMISSIONS,
    grants=(Grant(unit_path="VN", tiers=ALL, actions=RW | {Action.AGGREGATE}),),
)
LAMDONG = principal(
    "lamdong",
    (
        Grant(unit_path="VN.68", tiers=PROVINCIAL_TIERS | {ManagementTier.CENTRAL, ManagementTier.TREATMENT_ONLY}, actions=RW),
        Grant(unit_path="VN.68", tiers=frozenset({ManagementTier.DISTRICT}), actions=frozenset({Action.READ})),
    ),
)
DALAT = principal(
    "dalat",
    (Grant(unit_path="VN.68.672", tiers=frozenset({ManagementTier.DISTRICT, ManagementTier.TREATMENT_ONLY}), actions=RW),),
)
HIS = Principal(
    subject="client:his",
    kind=PrincipalKind.HIS,
    permissions=frozenset({Permission.REGISTRY_CARDS_LOOKUP}),
    grants=(Grant(unit_path="VN.68", tiers=ALL, actions=frozenset({Action.WRITE})),),
)

_serial = itertools.count(1)


def counts(answer: Any) -> dict[tuple[str, str, str], int]:
    """A /cadre-counts answer as {(managing unit, tier, status): count}."""
    assert answer.status_code == 200, answer.text
    return {(c["managing_unit"], c["tier"], c["status"]): c["count"] for c in answer.json()}


def national_id(born: date, sex: str, province: str = "068") -> str:
    digit = (0 if born.year < 2000 else 2) + (1 if sex == "female" else 0)
    return f"{province}{digit}{born.year % 100:02d}{next(_serial):06d}"


def cadre_body(**overrides: Any) -> dict[str, Any]:
    born = date.fromisoformat(str(overrides.get("date_of_birth", "1958-03-09")))
    sex = str(overrides.get("sex", "male"))
    body: dict[str, Any] = {
        "full_name": "Nguyễn Văn Đức",
        "date_of_birth": born.isoformat(),
        "sex": sex,
        "national_id": national_id(born, sex),
        "tier": "provincial_2",
        "managing_unit": "VN.68",
        "status": "retired",
        "status_since": "2018-04-01",
    }
    return {**body, **overrides}


@dataclass
class Api:
    http: httpx.AsyncClient
    sign_as: Callable[[Principal], dict[str, str]]

    async def call(self, method: str, url: str, who: Principal = ADMIN, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, url, headers={**kwargs.pop("headers", {}), **self.sign_as(who)}, **kwargs)

    async def get(self, url: str, who: Principal = ADMIN, **kwargs: Any) -> httpx.Response:
        return await self.call("GET", url, who, **kwargs)

    async def post(self, url: str, who: Principal = ADMIN, **kwargs: Any) -> httpx.Response:
        return await self.call("POST", url, who, **kwargs)

    async def patch(self, url: str, who: Principal = ADMIN, **kwargs: Any) -> httpx.Response:
        return await self.call("PATCH", url, who, **kwargs)

    async def create(self, who: Principal = ADMIN, **overrides: Any) -> dict[str, Any]:
        answer = await self.post("/cadres", who, json=cadre_body(**overrides))
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    async def outbox(self) -> list[tuple[str, str]]:
        """(topic, event type) of every outbox row, in order."""
        runtime = self.http._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.db.transaction() as session:
            rows = await session.execute(select(KIT.outbox.c.topic, KIT.outbox.c.headers).order_by(KIT.outbox.c.id))
            return [(topic, dict(headers)["ce_type"]) for topic, headers in rows]


@pytest.fixture
async def api(
    database_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path, sign_as: Callable[[Principal], dict[str, str]]
) -> AsyncIterator[Api]:
    migrations.upgrade("registry", database_url)
    settings = RegistrySettings(database_url=database_url, data_dir=tmp_path, internal_public_key_file=internal_keys[1])
    app = create_app(settings, run_workers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry") as http:
        client = Api(http, sign_as)
        answer = await client.post("/units/import", json=lam_dong_2025()["units"])
        assert answer.status_code == 200, answer.text
        yield client
    await app.state.runtime.db.dispose()
