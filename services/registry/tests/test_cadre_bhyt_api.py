"""The cadre's BHYT (health-insurance) card: registered, corrected, imported, validated, and carried by the
cadre events clinical matches QĐ 130 encounters with (SQLite and PostgreSQL)."""

import json

from registry_testkit import Api, cadre_body
from sqlalchemy import select

from contracts.events.registry import CadreSnapshot
from registry.tables import KIT


async def snapshots(api: Api) -> list[dict[str, object]]:
    runtime = api.http._transport.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.db.transaction() as session:
        rows = await session.scalars(select(KIT.outbox.c.payload).order_by(KIT.outbox.c.id))
        return [json.loads(payload)["cadre"] for payload in rows if "cadre" in json.loads(payload)]


async def test_a_cadre_carries_a_bhyt_card_in_all_three_forms(api: Api) -> None:
    created = await api.create(bhyt_number="HT3680123456789", bhyt_valid_from="2026-01-01", bhyt_valid_to="2026-12-31")
    assert (created["bhyt_number"], created["bhyt_valid_to"]) == ("HT3680123456789", "2026-12-31")
    for code in ("6801234567", "068052000123"):  # a 10-digit BHXH number, a 12-digit CCCD as the card code
        answer = await api.patch(f"/cadres/{created['id']}", json={"bhyt_number": code})
        assert answer.status_code == 200 and answer.json()["bhyt_number"] == code, answer.text
    history = (await api.get(f"/cadres/{created['id']}/history")).json()
    assert [h["new_value"] for h in history if h["field"] == "bhyt_number"] == ["6801234567", "068052000123"]
    last = (await snapshots(api))[-1]
    assert CadreSnapshot.model_validate(last).bhyt_number == "068052000123"


async def test_a_malformed_card_or_period_is_refused_and_changes_nothing(api: Api) -> None:
    for wrong in ("HT368012345678", "XX9680123456789", "ht3680123456789", "12345"):
        answer = await api.post("/cadres", json=cadre_body(bhyt_number=wrong))
        assert answer.status_code == 422 and answer.json()["errors"][0]["loc"][-1] == "bhyt_number", (wrong, answer.text)
    backwards = await api.post("/cadres", json=cadre_body(bhyt_valid_from="2026-12-31", bhyt_valid_to="2026-01-01"))
    assert backwards.status_code == 422
    created = await api.create(bhyt_valid_from="2026-01-01")
    refused = await api.patch(f"/cadres/{created['id']}", json={"bhyt_valid_to": "2025-12-31"})
    assert refused.status_code == 422 and "bhyt_valid_to" in refused.text
    assert (await api.get(f"/cadres/{created['id']}")).json()["bhyt_valid_to"] is None


async def test_old_cadre_events_without_the_card_still_parse() -> None:
    old = {
        "id": "6f1c2f5e-0000-4000-8000-000000000001", "full_name": "Lê Văn Thử", "date_of_birth": "1960-01-15",
        "sex": "male", "national_id": "068060000001", "tier": "district", "status": "retired",
        "status_since": "2018-01-01", "managing_unit": "VN.68.672",
    }  # fmt: skip
    assert CadreSnapshot.model_validate(old).bhyt_number is None


async def test_the_import_reads_the_card_with_vietnamese_headers(api: Api) -> None:
    header = "Họ và tên,Ngày sinh,Giới tính,Số CCCD,Diện quản lý,Đơn vị quản lý,Tình trạng,Mã thẻ BHYT,GT thẻ đến\n"
    rows = (
        "Nguyễn Văn An,15/01/1960,Nam,068060000201,đối tượng 2,VN.68,nghỉ hưu,HT 3 68 0123456001,31/12/2026\n"
        "Trần Văn Bình,01/02/1961,Nam,068061000202,đối tượng 2,VN.68,nghỉ hưu,HT3680123,31/12/2026\n"
    )
    content = (header + rows).encode()
    report = await api.post("/cadres/import", content=content, headers={"content-type": "text/csv"})
    body = report.json()
    assert body["valid_rows"] == 1 and [r["row"] for r in body["rows"] if r["errors"]] == [3], body
    assert body["rows"][0]["errors"][0]["loc"] == ["bhyt_number"]
    imported = await api.post(
        "/cadres/import", content=content, headers={"content-type": "text/csv"}, params={"dry_run": False, "skip_invalid": True}
    )
    assert imported.json()["imported"] == 1
    listed = (await api.get("/cadres", params={"q": "nguyen van an"})).json()["items"][0]
    assert (listed["bhyt_number"], listed["bhyt_valid_to"]) == ("HT3680123456001", "2026-12-31")
