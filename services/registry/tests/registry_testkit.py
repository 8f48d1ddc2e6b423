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

from contracts import roles
from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, Principal, PrincipalKind
from devstack.demo_registry import lam_dong_2025
from registry.app import create_app
from registry.settings import RegistrySettings
from registry.tables import KIT
from servicekit import migrations
from servicekit.testing.principals import principal_for

ALL = frozenset(ManagementTier)
RW = frozenset({Action.READ, Action.WRITE})
STAFF: frozenset[str] = frozenset(roles.STAFF_PERMISSIONS)
ADMIN_PERMISSIONS: frozenset[str] = frozenset(roles.ADMIN_PERMISSIONS)


def principal(name: str, grants: tuple[Grant, ...], permissions: frozenset[str] = STAFF) -> Principal:
    """A staff user with grants of a test's own (the boards' usual principals are below)."""
    return Principal(subject=f"user:{name}", kind=PrincipalKind.STAFF, permissions=permissions, grants=grants)


# As the gateway signs them in: each its role's grants and permissions.
ADMIN = principal_for(roles.administrator, subject="user:admin")
LAMDONG = principal_for(roles.provincial_board, "VN.68", subject="user:lamdong")
DALAT = principal_for(roles.district_board, "VN.68.672", subject="user:dalat")
HIS = principal_for(roles.his_client, "VN.68", subject="client:his")

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
