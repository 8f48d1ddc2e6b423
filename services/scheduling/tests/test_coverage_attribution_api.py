"""Coverage follows reorganisations (issue 10, point 4), on SQLite and PostgreSQL.

Đà Lạt (VN.68.672) and Bảo Lộc (VN.68.673) merge into a new district (VN.68.700) on 1 June, after round 1's
appointments in March. Entered after the plan was generated and half attended (A), or before it was generated
(B): coverage on the cadre's unit on the appointment date (`as_then`) and mapped onto today's units (`today`)
is the same either way; without a basis each invitation counts under the unit that holds it now (open ones
move with their cadre inside the board, so that view differs between the orders on purpose).
"""

import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.enums import ManagementTier, UnitLevel
from contracts.events.registry import (
    CadreRegistered,
    CadreSnapshot,
    CadreTransferred,
    UnitCreated,
    UnitSnapshot,
    UnitsReorganized,
)
from scheduling import projections
from scheduling.app import create_app
from scheduling.settings import SchedulingSettings
from servicekit import migrations
from servicekit.testing.events import EventFeed
from servicekit.testing.plugin import fresh_postgres_url


@pytest.fixture
def second_url(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> str:
    """A second database of the same kind, for the other event order."""
    if database_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / 'second.db'}"
    return fresh_postgres_url(request.getfixturevalue("postgres_cluster"))


@pytest.fixture
async def second_app(second_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path) -> AsyncIterator[Any]:
    """The same service on that database."""
    url = second_url
    migrations.upgrade("scheduling", url)
    settings = SchedulingSettings(database_url=url, data_dir=tmp_path / "second", internal_public_key_file=internal_keys[1])
    application = create_app(settings, run_workers=False)
    yield application
    await application.state.runtime.db.dispose()


def merger(k: Any, cadres: list[CadreSnapshot]) -> list[Any]:
    on = date(k.YEAR, 6, 1)
    new = UnitSnapshot(
        path="VN.68.700", code="700", name="Huyện Mới", level=UnitLevel.DISTRICT, parent_path="VN.68", valid_from=on
    )
    gone = [u.model_copy(update={"valid_to": on}) for u in k.UNITS if u.path in ("VN.68.672", "VN.68.673")]
    events: list[Any] = [
        UnitsReorganized(
            kind="merge",
            effective_date=on,
            retired_units=gone,
            created_units=[new],
            mapping={"VN.68.672": ["VN.68.700"], "VN.68.673": ["VN.68.700"]},
            moved_cadres=len(cadres),
        )
    ]
    events += [
        CadreTransferred(
            cadre=c.model_copy(update={"managing_unit": "VN.68.700"}),
            previous_managing_unit=c.managing_unit,
            effective_date=on,
            reason="sáp nhập",
        )
        for c in cadres
    ]
    return events


async def run(k: Any, app: Any, sign_as: Any, cadres: list[CadreSnapshot], merger_first: bool) -> dict[str, Any]:
    events = EventFeed(projections.consumers(app.state.runtime))
    for unit in k.UNITS:
        await events.send(UnitCreated(unit=unit))
    for cadre in cadres:
        await events.send(CadreRegistered(cadre=cadre))
    if merger_first:
        for event in merger(k, cadres):
            await events.send(event)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scheduling", timeout=30) as client:
        plan, invitations = await k.generated(client, sign_as)
        held_by = {c.id: c.managing_unit for c in cadres}
        attended = [i for i in invitations if held_by[uuid.UUID(i["cadre_id"])] == "VN.68.672"][:3]
        for invitation in attended:
            assert (await k.move(client, sign_as, invitation, status="attended", effective_date=k.day(3, 3))).status_code == 200
        if not merger_first:
            for event in merger(k, cadres):
                await events.send(event)
        answers: dict[str, Any] = {}
        for basis in ("as_then", "today", None):
            params: dict[str, Any] = {"plan_id": plan["id"], "by": ["unit"], **({"basis": basis} if basis else {})}
            answer = await client.get("/coverage", params=params, headers=sign_as(k.LAMDONG))
            assert answer.status_code == 200, answer.text
            body = answer.json()
            answers[str(basis)] = {r["unit"]: (r["invited"], r["attended"], r["open"]) for r in body["rows"]}
        dalat = await client.get(
            "/coverage", params={"plan_id": plan["id"], "basis": "today", "unit": "VN.68.672"}, headers=sign_as(k.LAMDONG)
        )
        answers["today at the old unit"] = dalat.json()["total"]["invited"]
        return answers


async def test_coverage_is_the_same_whether_the_merger_came_before_or_after(
    k: Any, app: Any, second_app: Any, sign_as: Any
) -> None:
    cadres = [k.snapshot(tier=ManagementTier.PROVINCIAL_2, managing_unit="VN.68.672") for _ in range(4)]
    cadres += [k.snapshot(tier=ManagementTier.PROVINCIAL_2, managing_unit="VN.68.673") for _ in range(3)]
    after = await run(k, app, sign_as, cadres, merger_first=False)
    before = await run(k, second_app, sign_as, cadres, merger_first=True)
    assert after["as_then"] == before["as_then"] == {"VN.68.672": (4, 3, 1), "VN.68.673": (3, 0, 3)}
    assert after["today"] == before["today"] == {"VN.68.700": (7, 3, 4)}
    assert after["today at the old unit"] == before["today at the old unit"] == 0
    # the operational view: open invitations moved with their cadres when the merger came after them
    assert after["None"] == {"VN.68.672": (3, 3, 0), "VN.68.700": (4, 0, 4)}
    assert before["None"] == {"VN.68.672": (4, 3, 1), "VN.68.673": (3, 0, 3)}


async def test_an_unknown_basis_is_refused(k: Any, client: httpx.AsyncClient, sign_as: Any) -> None:
    answer = await client.get("/coverage", params={"basis": "as_recorded"}, headers=sign_as(k.LAMDONG))
    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"][:2] == ["query", "basis"]
