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

from clinical_testkit import snapshot

from clinical.app import create_app
from clinical.projections import consumers
from clinical.settings import ClinicalSettings
from clinical.tables import KIT
from contracts import roles
from contracts.enums import Action, ManagementTier
from contracts.envelope import DomainEvent
from contracts.events.registry import CadreRegistered
from contracts.scope import Principal
from servicekit import clock, migrations
from servicekit.testing.events import EventFeed
from servicekit.testing.principals import principal_for

ALL_TIERS = frozenset(ManagementTier)
WRITE = frozenset({Action.WRITE})
READ_WRITE = frozenset({Action.READ, Action.WRITE})

# As the gateway signs them in: each its role's grants and permissions.
HIS_LAMDONG = principal_for(roles.his_client, "VN.68", subject="client:his-bvdk-lamdong", facility="68-BVDK")
HIS_SAIGON = principal_for(roles.his_client, "VN.79", subject="client:his-thong-nhat", facility="79-BVTN")
DALAT_STAFF = principal_for(roles.district_board, "VN.68.672", subject="user:dalat")
LAMDONG_DOCTOR = principal_for(roles.expert_council_doctor, "VN.68", subject="user:lamdong-doctor")

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


def feed_of(app: FastAPI) -> EventFeed:
    """The registry's events, as clinical's consumers receive them."""
    feed: EventFeed | None = getattr(app.state, "test_feed", None)
    if feed is None:
        feed = app.state.test_feed = EventFeed(consumers(app.state.runtime), source="cadrecare/registry")
    return feed


async def apply_cadre_event(app: FastAPI, event: DomainEvent, subject: str) -> None:
    await feed_of(app).send(event, subject=subject)


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
