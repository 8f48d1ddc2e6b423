"""The dashboard's lists as XLSX workbooks (openpyxl): one sheet, a title line, the header, the rows."""

from collections.abc import Sequence
from datetime import date
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from contracts.api.dashboard import AbnormalFindingList, NotExaminedList

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | date | None


def _workbook(sheet: str, title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None  # a new workbook has its one sheet
    ws.title = sheet
    ws.append([title])
    ws["A1"].font = Font(bold=True)
    ws.append(list(header))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    for column in ("A", "B", "C"):
        ws.column_dimensions[column].width = 38
    for row_cells in ws.iter_rows(min_row=3):
        for cell in row_cells:
            if isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"  # Vietnam's way, whatever the reader's locale
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _period(start: date, end: date) -> str:
    return f"{start:%d/%m/%Y} – {end:%d/%m/%Y}"


def not_examined_xlsx(found: NotExaminedList) -> bytes:
    return _workbook(
        "Chua kham",
        f"Cán bộ chưa khám sức khỏe định kỳ – {found.unit} – {_period(found.period_start, found.period_end)}",
        ["Mã cán bộ", "Đơn vị quản lý", "Mã đơn vị", "Diện quản lý", "Tình trạng", "Ngày hẹn khám", "Trạng thái lời mời"],
        [[str(r.cadre_id), r.unit_name, r.unit, r.tier, r.status, r.invited_on, r.invitation_status] for r in found.rows],
    )


def abnormal_xlsx(found: AbnormalFindingList) -> bytes:
    return _workbook(
        "Bat thuong",
        f"Kết quả bất thường chưa theo dõi – {found.unit} – {_period(found.period_start, found.period_end)}",
        [
            *("Mã hồ sơ", "Mã cán bộ", "Đơn vị quản lý", "Mã đơn vị", "Diện quản lý", "Loại", "Ngày"),
            *("Phân loại", "Cần theo dõi", "Cơ sở", "Số ngày chờ"),
        ],
        [
            [
                str(r.record_id),
                str(r.cadre_id),
                r.unit_name,
                r.unit,
                r.tier,
                r.kind,
                r.occurred_on,
                r.classification,
                "có" if r.needs_follow_up else "không",
                r.facility,
                r.days_waiting,
            ]
            for r in found.rows
        ],
    )
