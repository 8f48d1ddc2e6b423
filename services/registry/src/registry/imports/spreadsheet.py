"""Reading a board's list (CSV or XLSX, one row per cadre) into plain rows, with no I/O beyond the bytes given.

Headers may be the API's field names or the Vietnamese column titles a board keeps in Excel; values may
use Vietnamese words (Nam/Nữ, đương chức/nghỉ hưu) and dd/mm/yyyy dates. Validation is the caller's.
"""

import contextlib
import csv
import io
from datetime import date, datetime
from typing import Any

from registry.domain import fold_name

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEADER_ALIASES: dict[str, str] = {
    "ho va ten": "full_name",
    "ho ten": "full_name",
    "ngay sinh": "date_of_birth",
    "gioi tinh": "sex",
    "so cccd": "national_id",
    "cccd": "national_id",
    "so can cuoc": "national_id",
    "dien quan ly": "tier",
    "doi tuong": "tier",
    "don vi quan ly": "managing_unit",
    "tinh trang": "status",
    "tu ngay": "status_since",
    "chuc vu": "position",
    "don vi cong tac": "work_unit",
    "dia chi": "residence_address",
    "noi o": "residence_address",
    "don vi cu tru": "residence_unit",
    "dien thoai": "phone",
    "so dien thoai": "phone",
    "dien uu tien": "eligibility",
    "ma the bhyt": "bhyt_number",
    "so the bhyt": "bhyt_number",
    "the bhyt": "bhyt_number",
    "gt the tu": "bhyt_valid_from",
    "bhyt tu ngay": "bhyt_valid_from",
    "gt the den": "bhyt_valid_to",
    "bhyt den ngay": "bhyt_valid_to",
    "han the bhyt": "bhyt_valid_to",
}
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "sex": {"nam": "male", "nu": "female"},
    "status": {"duong chuc": "active", "dang cong tac": "active", "nguyen chuc": "retired", "nghi huu": "retired"},
    "tier": {
        "trung uong": "central",
        "doi tuong 1": "provincial_1",
        "doi tuong 2": "provincial_2",
        "doi tuong 3": "provincial_3",
        "huyen": "district",
        "chi kham dieu tri": "treatment_only",
    },
}
DATE_FIELDS = ("date_of_birth", "status_since", "bhyt_valid_from", "bhyt_valid_to")


class UnreadableFile(ValueError):
    pass


def _header(title: str) -> str:
    folded = fold_name(title).replace("_", " ")
    return HEADER_ALIASES.get(folded, title.strip().lower().replace(" ", "_"))


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _normalise(field: str, value: str | None) -> Any:
    if value is None:
        return None
    if field in VALUE_ALIASES:
        return VALUE_ALIASES[field].get(fold_name(value), value)
    if field in DATE_FIELDS and "/" in value:
        parts = value.split("/")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            day, month, year = parts
            return f"{year.zfill(4)}-{month.zfill(2)}-{day.zfill(2)}"
    if field == "eligibility":
        return [v.strip() for v in value.replace(",", ";").split(";") if v.strip()]
    if field == "bhyt_number":
        return value.replace(" ", "").upper()  # printed cards group the code: "HT 3 68 0123456789"
    if field == "national_id" and value.isdigit() and len(value) < 12:
        return value.zfill(12)  # Excel drops the leading zero of 001...: a CCCD stored as a number
    return value


def _rows(raw: list[list[Any]]) -> list[dict[str, Any]]:
    if not raw:
        raise UnreadableFile("the file is empty")
    headers = [_header(str(h or "")) for h in raw[0]]
    rows: list[dict[str, Any]] = []
    for line in raw[1:]:
        cells = [_cell(v) for v in line]
        if not any(cells):
            rows.append({})
            continue
        rows.append({h: _normalise(h, c) for h, c in zip(headers, cells, strict=False) if h and c is not None})
    return rows


def read_rows(content: bytes, content_type: str) -> list[dict[str, Any]]:
    """Data rows in order (row i of the result is line i + 2 of the file); blank rows are kept as {}."""
    if content_type.split(";")[0].strip() == XLSX_TYPE or content[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:
            raise UnreadableFile(f"not a readable XLSX workbook: {exc}") from exc
        sheet = book.worksheets[0]
        raw = [list(row) for row in sheet.iter_rows(values_only=True)]
        book.close()
        return _rows(raw)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("a CSV file must be UTF-8") from exc
    dialect: type[csv.Dialect] | csv.Dialect = csv.excel
    with contextlib.suppress(csv.Error):
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    # newline="": the csv module reads line ends itself, so a lone carriage return (an old Mac file, a stray
    # \r typed into a cell) ends a row or stays in a quoted cell instead of raising
    try:
        return _rows([list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect)])
    except csv.Error as exc:
        raise UnreadableFile(f"not a readable CSV file: {exc}") from exc
