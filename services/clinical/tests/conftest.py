"""Fixtures of clinical's tests: the app on SQLite and PostgreSQL, called as the gateway calls it, and
cadres fed into the read model through the real projection handler (as the registry's events would).
Shared helpers are in clinical_testkit.py (this directory is put on sys.path)."""

import json
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))

from clinical.app import create_app
from clinical.projections import project_cadre
from clinical.settings import ClinicalSettings
from clinical.tables import KIT
from contracts.enums import Action, CadreStatus, ManagementTier, Sex
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events.registry import CadreRegistered, CadreSnapshot
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, PrincipalKind
from servicekit import clock, migrations

ALL_TIERS = frozenset(ManagementTier)
WRITE = frozenset({Action.WRITE})
READ_WRITE = frozenset({Action.READ, Action.WRITE})

HIS_LAMDONG = Principal(
    subject="client:his-bvdk-lamdong",
    kind=PrincipalKind.HIS,
    facility="68-BVDK",
    grants=(Grant(unit_path="VN.68", tiers=ALL_TIERS, actions=WRITE),),
    permissions=frozenset({Permission.CLINICAL_WRITE, Permission.CLINICAL_READ_OWN}),
)
HIS_SAIGON = Principal(
    subject="client:his-thong-nhat",
    kind=PrincipalKind.HIS,
    facility="79-BVTN",
    grants=(Grant(unit_path="VN.79", tiers=ALL_TIERS, actions=WRITE),),
    permissions=frozenset({Permission.CLINICAL_WRITE, Permission.CLINICAL_READ_OWN}),
)
DALAT_STAFF = Principal(
    subject="user:dalat",
    kind=PrincipalKind.STAFF,
    grants=(Grant(unit_path="VN.68.672", tiers=frozenset({ManagementTier.DISTRICT}), actions=READ_WRITE),),
    permissions=frozenset({Permission.CLINICAL_READ}),
)
LAMDONG_DOCTOR = Principal(
    subject="user:lamdong-doctor",
    kind=PrincipalKind.DOCTOR,
    grants=(Grant(unit_path="VN.68", tiers=ALL_TIERS, actions=frozenset({Action.READ})),),
    permissions=frozenset({Permission.CLINICAL_READ}),
)

Sign = Callable[[Principal], dict[str, str]]
SeedCadre = Callable[..., Awaitable[uuid.UUID]]


@pytest.fixture
async def app(database_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path) -> AsyncIterator[FastAPI]:
    migrations.upgrade("clinical", database_url)
    settings = ClinicalSettings(database_url=database_url, data_dir=tmp_path, internal_public_key_file=internal_keys[1])
    application = create_app(settings, run_workers=False)
    yield application
    await application.state.runtime.db.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clinical") as http:
        yield http


async def apply_cadre_event(app: FastAPI, event: DomainEvent, subject: str) -> None:
    envelope = EventEnvelope.wrap(event, source="cadrecare/registry", subject=subject)
    async with app.state.runtime.db.transaction() as session:
        await project_cadre(session, envelope, event)  # type: ignore[arg-type]


def snapshot(cadre_id: uuid.UUID, **overrides: Any) -> CadreSnapshot:
    values: dict[str, Any] = {
        "id": cadre_id,
        "full_name": "Nguyễn Văn Đức",
        "date_of_birth": date(1952, 4, 5),
        "sex": Sex.MALE,
        "national_id": f"068052{uuid.uuid4().int % 10**6:06d}",
        "tier": ManagementTier.DISTRICT,
        "status": CadreStatus.RETIRED,
        "status_since": date(2012, 5, 1),
        "managing_unit": "VN.68.672",
        "card_number": None,
        **overrides,
    }
    return CadreSnapshot(**values)


@pytest.fixture
def seed_cadre(app: FastAPI) -> SeedCadre:
    """Registers a cadre in clinical's read model, as the registry's CadreRegistered event does."""

    async def seed(**overrides: Any) -> uuid.UUID:
        cadre_id = overrides.pop("id", None) or uuid.uuid4()
        await apply_cadre_event(app, CadreRegistered(cadre=snapshot(cadre_id, **overrides)), str(cadre_id))
        return cadre_id

    return seed


@pytest.fixture
def outbox_events(app: FastAPI) -> Callable[[], Awaitable[list[tuple[str, dict[str, Any]]]]]:
    """(event type, payload) of every outbox row, oldest first."""

    async def read() -> list[tuple[str, dict[str, Any]]]:
        table = KIT.outbox
        async with app.state.runtime.db.transaction() as session:
            rows = (await session.execute(select(table.c.headers, table.c.payload).order_by(table.c.id))).all()
        return [(dict(row.headers)["ce_type"], json.loads(row.payload)) for row in rows]

    return read


@pytest.fixture
def count_rows(app: FastAPI) -> Callable[[Any], Awaitable[int]]:
    async def count(table: Any) -> int:
        async with app.state.runtime.db.transaction() as session:
            return await session.scalar(select(func.count()).select_from(table)) or 0

    return count


@pytest.fixture
def principals() -> SimpleNamespace:
    return SimpleNamespace(his=HIS_LAMDONG, his_saigon=HIS_SAIGON, dalat=DALAT_STAFF, doctor=LAMDONG_DOCTOR)


@pytest.fixture
def cadre_event(app: FastAPI) -> Callable[[DomainEvent, str], Awaitable[None]]:
    async def apply(event: DomainEvent, subject: str) -> None:
        await apply_cadre_event(app, event, subject)

    return apply


@pytest.fixture
def today() -> date:
    """Vietnam's date: what hospitals' dates are checked against."""
    return clock.today()
