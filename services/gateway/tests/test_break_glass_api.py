"""Break the glass through the gateway: one record opened, audited, reported to its board, then closed again;
with the gateway's database on SQLite and on PostgreSQL."""

from datetime import UTC, datetime, timedelta

from board_seed import API, seeded
from gateway_harness import PlatformFactory
from sqlalchemy import update

from gateway.tables import BreakGlassRow


async def test_break_the_glass(make_platform: PlatformFactory, database_url: str) -> None:
    platform, ids = await seeded(make_platform, database_url, grants_cache_seconds=0)
    http = platform.http
    dalat = await platform.headers("dalat")
    target = ids["baoloc"]

    short = await http.post(f"{API}/gateway/break-glass", json={"cadre_id": target, "reason": "urgent"}, headers=dalat)
    assert short.status_code == 422
    in_scope = {"cadre_id": ids["dalat"], "reason": "emergency admission at Đà Lạt hospital"}
    assert (await http.post(f"{API}/gateway/break-glass", json=in_scope, headers=dalat)).status_code == 409
    reason = "cadre admitted unconscious to the Đà Lạt emergency ward"
    opened = await http.post(f"{API}/gateway/break-glass", json={"cadre_id": target, "reason": reason}, headers=dalat)
    assert opened.status_code == 201, opened.text
    assert opened.json()["active"] and opened.json()["managing_unit"] == "VN.68.673"

    single = await http.get(f"{API}/registry/cadres/{target}", headers=dalat)
    assert single.status_code == 200 and single.json()["id"] == target
    listed = await http.get(f"{API}/registry/cadres", headers=dalat)
    assert target not in {c["id"] for c in listed.json()["items"]}  # one record, not the unit

    for board, sees in (("baoloc", True), ("lamdong", True), ("dalat", False)):
        report = (await http.get(f"{API}/gateway/break-glass", headers=await platform.headers(board))).json()
        assert (target in {r["cadre_id"] for r in report["items"]}) is sees, board
    acknowledged = await http.post(
        f"{API}/gateway/break-glass/{opened.json()['id']}/acknowledge", headers=await platform.headers("baoloc")
    )
    assert acknowledged.json()["acknowledged_by"] == "user:baoloc"

    trail = (await http.get(f"{API}/gateway/audit", params={"cadre_id": target}, headers=await platform.headers("admin"))).json()
    under_glass = [r for r in trail["items"] if r["break_glass_id"] == opened.json()["id"]]
    assert {r["operation"] for r in under_glass} == {"gateway:break_glass.request", f"registry:GET /cadres/{target}"}
    assert any(r["detail"] == reason for r in under_glass)

    async with platform.gateway.runtime.db.transaction() as session:
        await session.execute(update(BreakGlassRow).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert (await http.get(f"{API}/registry/cadres/{target}", headers=dalat)).status_code == 404
