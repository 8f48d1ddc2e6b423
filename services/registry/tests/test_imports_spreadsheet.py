"""Reading a board's list without a database: Vietnamese headers and values in CSV, cells of an XLSX workbook."""

import io
from datetime import date

from openpyxl import Workbook

from registry.imports.spreadsheet import XLSX_TYPE, read_rows


def test_csv_with_vietnamese_headers_and_values() -> None:
    content = "Họ và tên;Ngày sinh;Giới tính;Số CCCD;Diện quản lý;Đơn vị quản lý;Tình trạng\n"
    content += "Trần Thị Lan;05/04/1962;Nữ;68162000123;Đối tượng 2;VN.68;Nghỉ hưu\n\n"
    rows = read_rows(content.encode(), "text/csv")
    assert rows[0] == {
        "full_name": "Trần Thị Lan",
        "date_of_birth": "1962-04-05",
        "sex": "female",
        "national_id": "068162000123",
        "tier": "provincial_2",
        "managing_unit": "VN.68",
        "status": "retired",
    }
    assert rows[1] == {}


def test_xlsx_rows() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["full_name", "date_of_birth", "sex", "national_id", "eligibility"])
    sheet.append(["Lê Văn Thử", date(1960, 1, 15), "male", 68060000001, "professor; senior_specialist"])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = read_rows(buffer.getvalue(), XLSX_TYPE)
    assert rows == [
        {
            "full_name": "Lê Văn Thử",
            "date_of_birth": "1960-01-15",
            "sex": "male",
            "national_id": "068060000001",
            "eligibility": ["professor", "senior_specialist"],
        }
    ]
