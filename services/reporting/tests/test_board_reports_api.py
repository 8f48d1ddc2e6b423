"""The board reports on SQLite and PostgreSQL: the six-monthly report checks its own sums and downloads as
XLSX and PDF; the board of a unit, and only it, issues the unit's report, stored as issued and announced."""

import io
import json
from datetime import date

import httpx
import openpyxl
from reporting_testkit import ADMIN, CENTRAL, DALAT, LAMDONG, PERIOD, RW, World, record
from sqlalchemy import select

from contracts.enums import PROVINCIAL_TIERS, Action, EncounterKind, ManagementTier
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, PrincipalKind
from reporting.tables import KIT
from servicekit.db import Database

READ = frozenset({Action.READ})
MANAGED_BY_PROVINCE = PROVINCIAL_TIERS | {ManagementTier.CENTRAL}


def provincial_board(*, writes_for_districts: bool) -> Principal:
    """Lâm Đồng's board without the treatment-only tier, its district tier read-only or delegated for writing."""
    return Principal(
        subject="user:lamdong-board",
        kind=PrincipalKind.STAFF,
        permissions=frozenset({Permission.REPORTING_READ}),
        grants=(
            Grant(unit_path="VN.68", tiers=MANAGED_BY_PROVINCE, actions=RW),
            Grant(unit_path="VN.68", tiers=frozenset({ManagementTier.DISTRICT}), actions=RW if writes_for_districts else READ),
        ),
    )


async def test_six_monthly_report_checks_itself_and_downloads_as_xlsx_and_pdf(world: World) -> None:
    params = {"unit": "VN.68", "kind": "six_monthly", **PERIOD}
    report = (await world.http.get("/reports/board", params=params, headers=world.sign(LAMDONG))).json()
    assert report["consistent"] is True and len(report["checks"]) >= 10
    assert all(c["consistent"] and c["total"] == c["parts_sum"] for c in report["checks"])
    assert report["title"].startswith("Báo cáo kết quả công tác bảo vệ, chăm sóc sức khỏe cán bộ 6 tháng đầu năm 2023")
    assert report["cadres"]["as_of"] == "2023-06-30" and report["activity"]["period_start"] == "2023-01-01"
    assert report["convalescence"]["has_data"] is False

    xlsx = await world.http.get("/reports/board", params={**params, "format": "xlsx"}, headers=world.sign(LAMDONG))
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Báo cáo"]
    cells = [row for row in sheet.iter_rows(values_only=True)]
    assert tuple(next(r for r in cells if r[0] == "Tổng cộng")[:4]) == ("Tổng cộng", 12, 7, 19)
    assert any(r[0] == "Khám ngoại trú, cấp đơn" and r[1] == 5 for r in cells)
    assert any(r[0] == "Loại B2" and r[1] == 1 for r in cells)
    pdf = await world.http.get("/reports/board", params={**params, "format": "pdf"}, headers=world.sign(LAMDONG))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    assert b"DejaVu" in pdf.content  # the Vietnamese font is embedded


async def test_a_board_issues_its_report_which_is_stored_as_issued_and_announced(world: World) -> None:
    issue = {"unit": "VN.68", "kind": "six_monthly", **PERIOD}
    answer = await world.http.post("/reports/board/issued", params=issue, headers=world.sign(LAMDONG))
    assert answer.status_code == 201, answer.text
    issued = answer.json()
    live = (await world.http.get("/reports/board", params=issue, headers=world.sign(LAMDONG))).json()
    assert {k: v for k, v in issued["report"].items() if k != "generated_at"} == {
        k: v for k, v in live.items() if k != "generated_at"
    }
    assert issued["issued_by"] == "user:lamdong" and issued["report"]["cadres"]["total"] == 19

    db = Database(world.database_url)
    try:
        async with db.transaction() as session:
            rows = (await session.execute(select(KIT.outbox.c.topic, KIT.outbox.c.key, KIT.outbox.c.payload))).all()
    finally:
        await db.dispose()
    assert [(topic, key) for topic, key, _ in rows] == [("cadrecare.reporting.report.v1", issued["report_id"])]
    event = json.loads(rows[0][2])
    assert (event["board_unit"], event["kind"], event["period_start"]) == ("VN.68", "six_monthly", "2023-01-01")

    # a record arriving later moves the live report, never the issued one
    await record(world.feed, world.p2[5], EncounterKind.OUTPATIENT_VISIT, date(2023, 6, 2))
    again = await world.http.get(f"/reports/board/issued/{issued['report_id']}", headers=world.sign(ADMIN))
    assert again.status_code == 200 and again.json() == issued
    # the central board may only aggregate the province's tiers below its own: it reads the same document suppressed
    central = (await world.http.get(f"/reports/board/issued/{issued['report_id']}", headers=world.sign(CENTRAL))).json()
    assert central["report"]["aggregate_only"] is True and central["report"]["cadres"]["total"] == 19
    assert [r["count"] for r in central["report"]["classification"]["rows"] if r["code"] == "B2"] == [None]
    moved = (await world.http.get("/reports/board", params=issue, headers=world.sign(LAMDONG))).json()
    assert moved["activity"]["outpatient_visits"] == issued["report"]["activity"]["outpatient_visits"] + 1
    listed = (await world.http.get("/reports/board/issued", params={"unit": "VN.68"}, headers=world.sign(LAMDONG))).json()
    assert [r["report_id"] for r in listed] == [issued["report_id"]]

    # a district board neither issues the province's report nor reads it; an empty period is not issued
    refused = await world.http.post("/reports/board/issued", params=issue, headers=world.sign(DALAT))
    assert refused.status_code == 403
    assert (await world.http.get(f"/reports/board/issued/{issued['report_id']}", headers=world.sign(DALAT))).status_code == 404
    empty = {"unit": "VN.68", "period_start": "2001-01-01", "period_end": "2001-06-30"}
    nothing = await world.http.post("/reports/board/issued", params=empty, headers=world.sign(LAMDONG))
    assert nothing.status_code == 422 and nothing.json()["code"] == "no_data"
    listed = (await world.http.get("/reports/board/issued", params={"unit": "VN.68"}, headers=world.sign(ADMIN))).json()
    assert len(listed) == 1


async def issue(world: World, principal: Principal, unit: str) -> httpx.Response:
    params = {"unit": unit, "kind": "six_monthly", **PERIOD}
    return await world.http.post("/reports/board/issued", params=params, headers=world.sign(principal))


async def test_the_central_board_issues_only_its_own_report(world: World) -> None:
    """Its write grant is on the central tier: a province's or a district's report is another board's."""
    for other_board in ("VN.68.672", "VN.68"):
        refused = await issue(world, CENTRAL, other_board)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "not_the_board"
    assert (await issue(world, CENTRAL, "VN")).status_code == 201


async def test_a_provincial_board_issues_a_districts_report_only_with_a_write_grant_on_the_district_tier(
    world: World,
) -> None:
    refused = await issue(world, provincial_board(writes_for_districts=False), "VN.68.672")
    assert refused.status_code == 403 and refused.json()["code"] == "not_the_board"
    assert (await issue(world, provincial_board(writes_for_districts=False), "VN.68")).status_code == 201
    assert (await issue(world, provincial_board(writes_for_districts=True), "VN.68.672")).status_code == 201


async def test_each_board_issues_its_own_report(world: World) -> None:
    for board, unit in ((CENTRAL, "VN"), (LAMDONG, "VN.68"), (DALAT, "VN.68.672")):
        answer = await issue(world, board, unit)
        assert answer.status_code == 201, (unit, answer.text)
        assert answer.json()["report"]["unit"] == unit


async def test_a_provincial_board_with_the_usual_grants_does_not_issue_a_districts_report(world: World) -> None:
    assert (await issue(world, LAMDONG, "VN.68.672")).status_code == 403
