"""The national roll-up on SQLite and PostgreSQL: small cells suppressed, provinces as then or as today,
scope applied to aggregates too; the `python -m reporting.rollup` job gives the endpoint's figures."""

import asyncio
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from reporting_testkit import CENTRAL, LAMDONG, PERIOD, UNITS, World

from contracts.enums import UnitLevel
from contracts.events.registry import UnitSnapshot, UnitsReorganized
from reporting.rollup import cli


async def test_national_rollup_suppresses_small_cells_and_maps_onto_todays_units(world: World) -> None:
    params = {**PERIOD, "basis": "as_then"}
    rolled = (await world.http.get("/aggregation/national", params=params, headers=world.sign(CENTRAL))).json()
    provinces = {p["province"]: p["cells"] for p in rolled["provinces"]}
    assert set(provinces) == {"VN.68", "VN.52"}
    for cells in [*provinces.values(), rolled["national"]["cells"]]:
        shown = [c["value"] for c in cells.values() if not c["suppressed"]]
        assert all(v == 0 or v >= 10 for v in shown)  # nothing resting on fewer than ten cadres is shown
    assert provinces["VN.68"]["cadres_total"]["value"] == 19 and provinces["VN.68"]["cadres_provincial_1"]["suppressed"]
    assert provinces["VN.52"]["cadres_central"]["suppressed"] and provinces["VN.52"]["cadres_provincial_3"]["suppressed"]
    assert provinces["VN.52"]["class_A"]["suppressed"]  # secondary: else C = 12 - 11
    assert rolled["national"]["cells"]["cadres_total"]["value"] == 31

    merged = UnitSnapshot(
        path="VN.64",
        code="64",
        name="Tỉnh Gia Lai (mới)",
        level=UnitLevel.PROVINCE,
        parent_path="VN",
        valid_from=date(2025, 7, 1),
    )
    gone = UNITS[4].model_copy(update={"valid_to": date(2025, 6, 30)})
    await world.feed.send(
        UnitsReorganized(
            kind="merge",
            effective_date=date(2025, 7, 1),
            retired_units=[gone],
            created_units=[merged],
            mapping={"VN.52": ["VN.64"]},
            moved_cadres=0,
        )
    )
    today = (
        await world.http.get("/aggregation/national", params={**PERIOD, "basis": "today"}, headers=world.sign(CENTRAL))
    ).json()
    assert {p["province"]: p["name"] for p in today["provinces"]} == {"VN.68": "Tỉnh Lâm Đồng", "VN.64": "Tỉnh Gia Lai (mới)"}
    assert {
        p["province"]
        for p in (await world.http.get("/aggregation/national", params=params, headers=world.sign(CENTRAL))).json()["provinces"]
    } == {"VN.68", "VN.52"}

    lamdong_only = (await world.http.get("/aggregation/national", params=params, headers=world.sign(LAMDONG))).json()
    assert [p["province"] for p in lamdong_only["provinces"]] == ["VN.68"]  # scope applies to aggregates too
    wrong = await world.http.get(
        "/aggregation/national", params={"period_start": "2023-06-30", "period_end": "2023-01-01"}, headers=world.sign(CENTRAL)
    )
    assert wrong.status_code == 422


async def test_rollup_job_writes_the_same_figures(world: World, tmp_path: Path) -> None:
    out = tmp_path / "rollup.json"
    args = [
        "--database-url",
        world.database_url,
        "--start",
        "2023-01-01",
        "--end",
        "2023-06-30",
        "--min-cell-size",
        "10",
        "--output",
        str(out),
    ]
    await _in_thread(lambda: cli.main(args))
    job = json.loads(out.read_text())
    endpoint = (await world.http.get("/aggregation/national", params=PERIOD, headers=world.sign(CENTRAL))).json()
    assert job["provinces"] == endpoint["provinces"] and job["national"] == endpoint["national"]


async def _in_thread(work: Callable[[], object]) -> None:
    await asyncio.to_thread(work)
