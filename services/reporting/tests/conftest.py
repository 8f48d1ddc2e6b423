"""Fixtures of reporting's tests: the app on SQLite and PostgreSQL, called as the gateway calls it, with the
events of `reporting_testkit.seed` fed through the consumer kit. Shared helpers are in reporting_testkit.py
and reporting_scenarios.py (this directory is put on sys.path)."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reporting_testkit import ADMIN, Bare, Sign, World, seed

from reporting.app import create_app
from reporting.feed import EventFeed
from reporting.settings import ReportingSettings
from servicekit import migrations


@pytest.fixture
async def world(database_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path, sign_as: Sign) -> AsyncIterator[World]:
    migrations.upgrade("reporting", database_url)
    settings = ReportingSettings(
        database_url=database_url, data_dir=tmp_path, internal_public_key_file=internal_keys[1], min_cell_size=10
    )
    app = create_app(settings, run_workers=False)
    feed = EventFeed(app.state.runtime.db)
    p2, district = await seed(feed)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as http:
        yield World(http, feed, database_url, sign_as, p2, district)
    await app.state.runtime.db.dispose()


@pytest.fixture
async def reporting(database_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path, sign_as: Sign) -> AsyncIterator[Bare]:
    """The app with no event fed: a test tells its own story (and may empty it with `rebuild.service.clear`)."""
    migrations.upgrade("reporting", database_url)
    settings = ReportingSettings(
        database_url=database_url, data_dir=tmp_path, internal_public_key_file=internal_keys[1], min_cell_size=10
    )
    app = create_app(settings, run_workers=False)
    db = app.state.runtime.db
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as http:

        async def ask(path: str, params: dict[str, str], status: int = 200) -> dict[str, Any]:
            response = await http.get(path, params=params, headers=sign_as(ADMIN))
            assert response.status_code == status, response.text
            answer: dict[str, Any] = response.json()
            answer.pop("generated_at", None)
            return answer

        yield Bare(EventFeed(db), db, http, ask)
    await db.dispose()
