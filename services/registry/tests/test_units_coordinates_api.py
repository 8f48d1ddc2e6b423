"""Units' coordinates on SQLite and PostgreSQL: given with a unit, kept, listed, and published on its event (for
reporting's map); a unit given without them, or out of range, says so."""

import json

from registry_testkit import Api
from sqlalchemy import select

from registry.tables import KIT

COMMUNE = {
    "path": "VN.68.24781",
    "code": "24781",
    "name": "Phường Xuân Hương - Đà Lạt",
    "level": "commune",
    "parent_path": "VN.68",
    "valid_from": "2025-07-01",
    "latitude": 11.9404,
    "longitude": 108.4583,
}


async def published_units(api: Api) -> dict[str, dict[str, object]]:
    runtime = api.http._transport.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.db.transaction() as session:
        rows = await session.execute(select(KIT.outbox.c.headers, KIT.outbox.c.payload).order_by(KIT.outbox.c.id))
        payloads = [json.loads(payload) for headers, payload in rows if dict(headers)["ce_type"].endswith("unit.created")]
    return {p["unit"]["path"]: p["unit"] for p in payloads}


async def test_coordinates_are_kept_listed_and_published(api: Api) -> None:
    answer = await api.post("/units/import", json=[COMMUNE])
    assert answer.status_code == 200 and answer.json() == {"created": 1}, answer.text
    listed = {u["path"]: u for u in (await api.get("/units", params={"under": "VN.68"})).json()}
    assert (listed["VN.68.24781"]["latitude"], listed["VN.68.24781"]["longitude"]) == (11.9404, 108.4583)
    assert listed["VN.68"]["latitude"] is None  # imported without
    published = await published_units(api)
    assert (published["VN.68.24781"]["latitude"], published["VN.68.24781"]["longitude"]) == (11.9404, 108.4583)
    assert published["VN.68"]["latitude"] is None


async def test_coordinates_out_of_range_are_refused(api: Api) -> None:
    answer = await api.post("/units/import", json=[{**COMMUNE, "latitude": 123.0}])
    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"][-1] == "latitude"
    assert "VN.68.24781" not in {u["path"] for u in (await api.get("/units", params={"under": "VN.68"})).json()}
