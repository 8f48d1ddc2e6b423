"""Small-cell suppression on every output the central board reaches with its aggregate-only grant, on a
small district (Đà Lạt: five district-tier cadres, three of them classified B1, B2, B2), on SQLite and
PostgreSQL; the provincial board, which may READ the district tier, still sees the exact figures."""

import io
import json
import re
import zlib
from datetime import date
from typing import Any

import openpyxl
from reporting_testkit import ADMIN, CENTRAL, DALAT, LAMDONG, PERIOD, World, classified, record
from sqlalchemy import select

from contracts.enums import EncounterKind
from reporting.rollup.service import FIELDS, GROUPS
from reporting.tables import IssuedReport as IssuedRow
from servicekit.db import Database

DISTRICT = "VN.68.672"
MIN_CELL = 10
NOT_COUNTS = {"round_number", "min_cell_size", "change"}  # change: a difference of two shown totals (else hidden with them)


async def classify_the_district(world: World) -> None:
    """B1 1, B2 2 (the counts reported leaking) and one outpatient visit."""
    for cadre, code in zip(world.district, ("B1", "B2", "B2"), strict=False):
        await record(world.feed, cadre, EncounterKind.PERIODIC_EXAM, date(2023, 5, 2), classification=classified(code))
    await record(world.feed, world.district[3], EncounterKind.OUTPATIENT_VISIT, date(2023, 5, 3))


def small_counts(body: Any, path: str = "") -> list[str]:
    """Every integer 1..MIN_CELL-1 in a JSON document: what an aggregate-only caller must never be shown."""
    if isinstance(body, dict):
        return [p for k, v in body.items() if k not in NOT_COUNTS for p in small_counts(v, f"{path}.{k}")]
    if isinstance(body, list):
        return [p for i, v in enumerate(body) for p in small_counts(v, f"{path}[{i}]")]
    is_count = isinstance(body, int) and not isinstance(body, bool)
    return [f"{path}={body}"] if is_count and 0 < body < MIN_CELL else []


async def board_report(world: World, principal: Any, unit: str, fmt: str = "json") -> Any:
    params = {"unit": unit, "kind": "six_monthly", "format": fmt, **PERIOD}
    answer = await world.http.get("/reports/board", params=params, headers=world.sign(principal))
    assert answer.status_code == 200, answer.text
    return answer.json() if fmt == "json" else answer.content


async def test_summary_hides_every_small_count_for_the_central_board_and_not_for_the_province(world: World) -> None:
    await classify_the_district(world)
    params = {"unit": DISTRICT, **PERIOD}
    central = (await world.http.get("/summary", params=params, headers=world.sign(CENTRAL))).json()
    assert central["aggregate_only"] is True and small_counts(central) == []
    assert {"total", "change"} <= set(central["cadres"]["suppressed"])
    assert all(r["suppressed"] == ["count"] for r in central["cadres"]["rows"])
    assert {r["code"]: r["count"] for r in central["classification"]["rows"]} == {"A": 0, "B1": None, "B2": None, "C": 0, "D": 0}
    assert {"periodic_exams", "outpatient_visits", "home_visits"} <= set(central["activity"]["suppressed"])
    assert any("periodic_exams" in p["suppressed"] for p in central["monthly"])

    counts = (await world.http.get("/cadre-counts", params={"unit": DISTRICT}, headers=world.sign(CENTRAL))).json()
    assert small_counts(counts) == [] and counts["suppressed"] == ["total"]
    exact = (await world.http.get("/cadre-counts", params={"unit": DISTRICT}, headers=world.sign(LAMDONG))).json()
    assert (exact["total"], exact["suppressed"]) == (5, [])

    province = (await world.http.get("/summary", params=params, headers=world.sign(LAMDONG))).json()
    assert province["aggregate_only"] is False and province["cadres"]["total"] == 5
    assert {r["code"]: r["count"] for r in province["classification"]["rows"]}["B2"] == 2
    assert (province["activity"]["periodic_exams"], province["activity"]["suppressed"]) == (3, [])


async def test_board_report_json_hides_the_classes_of_three_people(world: World) -> None:
    await classify_the_district(world)
    central = await board_report(world, CENTRAL, DISTRICT)
    assert central["aggregate_only"] is True and central["min_cell_size"] == MIN_CELL
    assert small_counts(central) == []
    assert [r["count"] for r in central["classification"]["rows"] if r["code"] in ("B1", "B2")] == [None, None]
    assert all(c["parts"] == {} and c["suppressed"] for c in central["checks"]) and central["consistent"] is True

    province = await board_report(world, LAMDONG, DISTRICT)
    assert province["aggregate_only"] is False and province["cadres"]["total"] == 5
    assert [r["count"] for r in province["classification"]["rows"] if r["code"] in ("B1", "B2")] == [1, 2]


def _numbers(book: openpyxl.Workbook) -> list[int]:
    return [v for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if type(v) is int]


async def test_board_report_xlsx_shows_the_mark_not_the_number(world: World) -> None:
    await classify_the_district(world)
    central = openpyxl.load_workbook(io.BytesIO(await board_report(world, CENTRAL, DISTRICT, "xlsx")))
    assert [n for n in _numbers(central) if 0 < n < MIN_CELL] == []
    rows = list(central["Báo cáo"].iter_rows(values_only=True))
    assert tuple(next(r for r in rows if r[0] == "Tổng cộng")[:4]) == ("Tổng cộng", "(ẩn)", "(ẩn)", "(ẩn)")
    assert any(r[0] == "Loại B2" and r[1] == "(ẩn)" for r in rows)

    province = openpyxl.load_workbook(io.BytesIO(await board_report(world, LAMDONG, DISTRICT, "xlsx")))
    rows = list(province["Báo cáo"].iter_rows(values_only=True))
    assert tuple(next(r for r in rows if r[0] == "Tổng cộng")[:4]) == ("Tổng cộng", 1, 4, 5)
    assert any(r[0] == "Loại B2" and r[1] == 2 for r in rows)


def _unescape(literal: bytes) -> bytes:
    simple = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def one(m: re.Match[bytes]) -> bytes:
        code = m[1]
        return bytes([int(code, 8)]) if code.isdigit() else simple.get(code, code)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S)


def pdf_strings(content: bytes) -> list[str]:
    """The strings an fpdf2 PDF shows, decoded through each font's ToUnicode map (no PDF library needed)."""
    objects = {int(m[1]): m[2] for m in re.finditer(rb"(\d+) 0 obj\n(.*?)\nendobj", content, re.S)}

    def stream(body: bytes) -> bytes:
        # as many bytes as the dictionary's /Length says: matching up to "endstream" cut the data short whenever the
        # compressed bytes happened to end in a carriage return
        length, start = re.search(rb"/Length (\d+)", body), re.search(rb"stream\r?\n", body)
        assert length is not None and start is not None
        data = body[start.end() : start.end() + int(length[1])]
        return zlib.decompress(data) if b"/FlateDecode" in body else data

    cmaps: dict[int, dict[int, str]] = {}
    for number, body in objects.items():
        if (found := re.search(rb"/ToUnicode (\d+) 0 R", body)) is not None:
            pairs = re.findall(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]{4})>", stream(objects[int(found[1])]))
            cmaps[number] = {int(code, 16): chr(int(char, 16)) for code, char in pairs}
    fonts = {name: int(number) for name, number in re.findall(rb"/(F\d+) (\d+) 0 R", content)}
    shown: list[str] = []
    for body in objects.values():
        if b"stream" not in body or b"/Length1" in body:
            continue
        cmap: dict[int, str] = {}
        for m in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", stream(body), re.S):
            if m[1] is not None:
                cmap = cmaps.get(fonts.get(m[1], -1), {})
            else:
                raw = _unescape(m[2])
                shown.append("".join(cmap.get(int.from_bytes(raw[i : i + 2], "big"), "?") for i in range(0, len(raw), 2)))
    return shown


async def test_board_report_pdf_shows_the_mark_not_the_number(world: World) -> None:
    await classify_the_district(world)
    province = pdf_strings(await board_report(world, LAMDONG, DISTRICT, "pdf"))
    assert "Loại B2" in province and "5" in province  # the extraction reads the exact report's figures
    central = pdf_strings(await board_report(world, CENTRAL, DISTRICT, "pdf"))
    assert "(ẩn)" in central and "Loại B2" in central
    assert [s for s in central if s.strip().isdigit() and 0 < int(s) < MIN_CELL] == []


async def test_issued_reports_are_stored_and_read_suppressed_for_who_may_only_aggregate(world: World) -> None:
    await classify_the_district(world)
    params = {"unit": DISTRICT, "kind": "six_monthly", **PERIOD}
    exact = await world.http.post("/reports/board/issued", params=params, headers=world.sign(DALAT))
    assert exact.status_code == 201 and exact.json()["report"]["cadres"]["total"] == 5
    report_id = exact.json()["report_id"]
    read_by_central = (await world.http.get(f"/reports/board/issued/{report_id}", headers=world.sign(CENTRAL))).json()
    assert read_by_central["report"]["aggregate_only"] is True and small_counts(read_by_central["report"]) == []
    read_by_province = (await world.http.get(f"/reports/board/issued/{report_id}", headers=world.sign(LAMDONG))).json()
    assert read_by_province == exact.json()

    # the central board's own report: it may only aggregate the tiers below its own, so it is stored suppressed
    national = await world.http.post("/reports/board/issued", params={**params, "unit": "VN"}, headers=world.sign(CENTRAL))
    assert national.status_code == 201 and small_counts(national.json()["report"]) == []
    db = Database(world.database_url)
    try:
        async with db.transaction() as session:
            stored = (await session.execute(select(IssuedRow.body).where(IssuedRow.board_unit == "VN"))).scalar_one()
    finally:
        await db.dispose()
    assert json.loads(stored)["aggregate_only"] is True and small_counts(json.loads(stored)) == []
    national_id = national.json()["report_id"]
    read_by_admin = (await world.http.get(f"/reports/board/issued/{national_id}", headers=world.sign(ADMIN))).json()
    assert read_by_admin == national.json()  # the document as issued


async def test_roll_up_leaves_no_relation_with_a_single_hidden_cell(world: World) -> None:
    await classify_the_district(world)
    rolled = (await world.http.get("/aggregation/national", params=PERIOD, headers=world.sign(CENTRAL))).json()
    rows = {p["province"]: p["cells"] for p in [*rolled["provinces"], rolled["national"]]}
    for cells in rows.values():
        assert all(c["value"] in (0, None) or c["value"] >= MIN_CELL for c in cells.values())
        for total, parts in GROUPS:
            assert sum(cells[k]["suppressed"] for k in (total, *parts)) != 1, (total, parts)
    for field in FIELDS:
        assert sum(cells[field]["suppressed"] for cells in rows.values()) != 1, field
