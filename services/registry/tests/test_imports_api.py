"""Importing a board's list from CSV and XLSX on SQLite and PostgreSQL: dry run, all or nothing, skip-invalid."""

import io
from typing import Any

from openpyxl import Workbook
from registry_testkit import DALAT, Api, cadre_body

from registry.imports.spreadsheet import XLSX_TYPE

HEADER = "full_name,date_of_birth,sex,national_id,tier,managing_unit,status,status_since,phone\n"


def csv_of(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


async def upload(api: Api, content: bytes, who: Any = None, content_type: str = "text/csv", **params: Any) -> Any:
    kwargs: dict[str, Any] = {"content": content, "headers": {"content-type": content_type}, "params": params}
    return await (api.post("/cadres/import", who, **kwargs) if who else api.post("/cadres/import", **kwargs))


async def test_dry_run_reports_every_rows_problems_and_changes_nothing(api: Api) -> None:
    existing = await api.create()
    content = csv_of(
        "Nguyễn Văn An,1960-01-15,male,068060000101,provincial_2,VN.68,retired,2020-01-01,0912000001",  # 2 valid
        "Trần Thị Bình,1961-02-01,female,068161000102,provincial_3,VN.68,active,2020-01-01,",  # 3 valid
        "Lê Văn Cường,1962-03-01,male,068063000103,provincial_3,VN.68,active,2020-01-01,",  # 4 CCCD year
        "Phạm Văn Dũng,1963-04-01,male,068063000104,provincial_3,VN.99,active,2020-01-01,",  # 5 unknown unit
        "Hoàng Văn Em,1964-05-01,male,068064000105,district,VN.68,active,2020-01-01,",  # 6 tier at a province
        "Vũ Văn Phúc,1965-06-01,male,068060000101,provincial_3,VN.68,active,2020-01-01,",  # 7 CCCD of row 2 (and wrong year)
        f"Đỗ Văn Giang,1958-03-09,male,{existing['national_id']},provincial_2,VN.68,retired,2020-01-01,",  # 8 registered
        "Ngô Văn Hải,not a date,male,068064000108,provincial_2,VN.68,retired,2020-01-01,",  # 9 schema
        ",,,,,,,,",  # a blank line: ignored
        "NGUYEN VAN AN,1960-01-15,male,068060000109,provincial_2,VN.68,retired,2020-01-01,",  # 11 likely duplicate of row 2
    )
    before = await api.outbox()
    report = await upload(api, content)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["dry_run"] and body["total_rows"] == 9 and body["valid_rows"] == 3 and body["imported"] == 0
    problems = {r["row"]: [(e["loc"], e["msg"]) for e in r["errors"]] for r in body["rows"]}
    assert problems[4] == [(["national_id"], "digits 5-6 (63) do not match the birth year 1962 of date_of_birth")]
    assert problems[5] == [(["managing_unit"], "no current unit 'VN.99'")]
    assert [loc for loc, _ in problems[6]] == [["tier"]]
    assert problems[6][0][1].startswith("a province board in VN.68 does not manage tier 'district' on 2020-01-01")
    assert (["national_id"], "the same national ID as row 2") in problems[7]
    assert problems[8][0][0] == ["national_id"] and existing["id"] in problems[8][0][1]
    assert problems[9][0][0] == ["date_of_birth"]
    assert problems[11] == [] and "row 2" in next(r for r in body["rows"] if r["row"] == 11)["warnings"][0]
    assert await api.outbox() == before

    refused = await upload(api, content, dry_run=False)
    assert refused.status_code == 422 and refused.json()["code"] == "import_refused"
    assert [4, "national_id"] in [e["loc"] for e in refused.json()["errors"]]
    assert (await api.get("/cadres")).json()["total"] == 1 and await api.outbox() == before

    skipped = await upload(api, content, dry_run=False, skip_invalid=True)
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["imported"] == 3 and skipped.json()["skipped_rows"] == [4, 5, 6, 7, 8, 9]
    listed = (await api.get("/cadres", params={"q": "nguyen van an"})).json()
    assert listed["total"] == 2
    assert (await api.get("/cadre-counts", params={"unit": "VN.68", "on": "2020-06-30"})).json()
    assert len(await api.outbox()) == len(before) + 3


async def test_xlsx_import_with_vietnamese_headers_and_scope(api: Api) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Diện quản lý", "Đơn vị quản lý", "Tình trạng", "Từ ngày"])
    sheet.append(["Lê Thị Hoa", "12/08/1955", "Nữ", "68155000201", "Huyện", "VN.68.672", "Nghỉ hưu", "10/08/2015"])
    sheet.append(["Phan Văn Long", "02/02/1970", "Nam", "068070000202", "huyen", "VN.68.672", "Đương chức", "01/01/2021"])
    buffer = io.BytesIO()
    book.save(buffer)
    outside = await upload(api, buffer.getvalue(), DALAT, XLSX_TYPE, dry_run=False)
    assert outside.status_code == 200 and outside.json()["imported"] == 2, outside.text
    listed = (await api.get("/cadres", DALAT)).json()
    assert {(c["full_name"], c["status"], c["tier"]) for c in listed["items"]} == {
        ("Lê Thị Hoa", "retired", "district"),
        ("Phan Văn Long", "active", "district"),
    }
    province_rows = csv_of(f"Lê Văn Tỉnh,1958-03-09,male,{cadre_body()['national_id']},provincial_2,VN.68,retired,2020-01-01,")
    refused = await upload(api, province_rows, DALAT)
    assert refused.json()["rows"][0]["errors"] == [
        {"loc": ["managing_unit"], "msg": "outside your write scope", "type": "value_error"}
    ]
    garbage = await upload(api, b"PK\x03\x04 not a workbook", DALAT, XLSX_TYPE)
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["loc"] == ["body"]
