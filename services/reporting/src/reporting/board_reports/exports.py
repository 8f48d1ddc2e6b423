"""A board report as XLSX (openpyxl) and PDF (fpdf2 with DejaVu Sans for Vietnamese): the same tables as the JSON."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Font
from pydantic import BaseModel

from contracts.api.reporting import (
    ActivityCounts,
    BoardReport,
    CadreCountSection,
    ChronicSection,
    ClassificationSection,
    CoverageSection,
)
from contracts.enums import CadreStatus, ManagementTier
from reporting.board_reports import words

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

TIER_LABELS: dict[str, str] = {
    ManagementTier.CENTRAL.value: "Diện Bộ Chính trị, Ban Bí thư quản lý",
    ManagementTier.PROVINCIAL_1.value: "Diện BTV Tỉnh ủy - Đối tượng 1",
    ManagementTier.PROVINCIAL_2.value: "Diện BTV Tỉnh ủy - Đối tượng 2",
    ManagementTier.PROVINCIAL_3.value: "Diện BTV Tỉnh ủy - Đối tượng 3",
    ManagementTier.DISTRICT.value: "Diện BTV huyện, thành ủy quản lý",
    ManagementTier.COMMUNE.value: "Diện BTV đảng ủy xã, phường quản lý",
    ManagementTier.TREATMENT_ONLY.value: "Chỉ khám, điều trị theo tiêu chuẩn",
}
STATUS_LABELS = {CadreStatus.ACTIVE.value: "đương chức", CadreStatus.RETIRED.value: "nguyên chức", None: "chưa rõ"}

Table = tuple[str, list[str], list[list[object]]]
ACTIVITY_ROWS = (
    ("Khám sức khỏe định kỳ", "periodic_exams"),
    ("Khám ngoại trú, cấp đơn", "outpatient_visits"),
    ("Điều trị nội trú", "admissions"),
    ("Chuyển viện tuyến trên", "referrals_higher_level"),
    ("Chuyển viện trong tỉnh", "referrals_in_province"),
    ("Điều trị ở nước ngoài", "referrals_abroad"),
    ("Tổng chuyển viện", "referrals_total"),
    ("Khám tại nhà", "home_visits"),
    ("Hội chẩn", "consultations"),
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}".replace(".", ",")


HIDDEN = "(ẩn)"  # a cell suppressed for an aggregate-only caller (reporting.suppression)


def _num(value: int | None) -> object:
    return HIDDEN if value is None else value


def _field(model: BaseModel, name: str) -> object:
    """A required count of the API, or the hidden mark where the model names it suppressed."""
    return HIDDEN if name in getattr(model, "suppressed", ()) else getattr(model, name)


def _sum_shown(*values: object) -> object:
    """A total the table prints itself: hidden as soon as one of its parts is."""
    return HIDDEN if HIDDEN in values else sum(v for v in values if isinstance(v, int))


def _cadre_table(c: CadreCountSection) -> Table:
    tiers: dict[str, dict[str, object]] = {}
    for row in c.rows:
        tiers.setdefault(row.tier.value, {})[row.status.value] = _field(row, "count")
    cadre_rows: list[list[object]] = []
    for tier in (t.value for t in ManagementTier):
        if tier in tiers:
            active, retired = tiers[tier].get("active", 0), tiers[tier].get("retired", 0)
            cadre_rows.append([TIER_LABELS[tier], active, retired, _sum_shown(active, retired)])
    cadre_rows.append(["Tổng cộng", _field(c, "active"), _field(c, "retired"), _field(c, "total")])
    change = HIDDEN if "change" in c.suppressed else f"{c.change:+d}"
    return (
        f"1.1. Đặc điểm tình hình (tính đến {c.as_of:%d/%m/%Y}; {change} so với {c.compared_with:%d/%m/%Y}, "
        f"khi có {_field(c, 'total_then')})",
        ["Diện quản lý", "Đương chức", "Nguyên chức", "Tổng"],
        cadre_rows,
    )


def _coverage_tables(cov: CoverageSection) -> list[Table]:
    by_group: Table = (
        f"Khám sức khỏe định kỳ theo nhóm đối tượng (lịch khám từ {cov.period_start:%d/%m/%Y} đến {cov.period_end:%d/%m/%Y})",
        ["Kế hoạch", "Diện", "Tình trạng", "Được mời", "Đã khám", "Tỷ lệ (%)"],
        [
            [
                r.plan_title or str(r.plan_id),
                TIER_LABELS.get(r.tier.value if r.tier else "", "-"),
                STATUS_LABELS.get(r.status.value if r.status else None, "-"),
                _field(r, "invited"),
                _field(r, "examined"),
                _pct(r.rate),
            ]
            for r in cov.by_group
        ]
        + [
            [r.plan_title or str(r.plan_id), "Cả kế hoạch", "", _field(r, "invited"), _field(r, "examined"), _pct(r.rate)]
            for r in cov.by_plan
        ],
    )
    by_unit: Table = (
        "Khám sức khỏe định kỳ theo đơn vị",
        ["Kế hoạch", "Đơn vị", "Được mời", "Đã khám", "Tỷ lệ (%)"],
        [
            [r.plan_title or str(r.plan_id), r.unit or "-", _field(r, "invited"), _field(r, "examined"), _pct(r.rate)]
            for r in cov.by_unit
        ],
    )
    return [by_group, by_unit]


def _classification_tables(cl: ClassificationSection) -> list[Table]:
    class_rows: list[list[object]] = [[r.label_vi, _num(r.count), _pct(r.share)] for r in cl.rows]
    class_rows.append(["Tổng", _field(cl, "total"), "100,00" if cl.total else "-"])
    header = ["Loại", "Số người", "Tỷ lệ (%)"]
    tables: list[Table] = [
        (f"Kết quả phân loại sức khỏe ({cl.period_start:%d/%m/%Y} - {cl.period_end:%d/%m/%Y})", header, class_rows)
    ]
    for tier, rows in cl.by_tier.items():
        tables.append(
            (
                f"Phân loại sức khỏe - {TIER_LABELS.get(tier, tier)}",
                header,
                [[r.label_vi, _num(r.count), _pct(r.share)] for r in rows],
            )
        )
    return tables


def _activity_table(a: ActivityCounts) -> Table:
    return (
        f"Khám, chữa bệnh (từ {a.period_start:%d/%m/%Y} đến {a.period_end:%d/%m/%Y})",
        ["Hoạt động", "Số lượt"],
        [[label, _field(a, name)] for label, name in ACTIVITY_ROWS],
    )


def _chronic_table(ch: ChronicSection) -> Table:
    return (
        f"Bệnh mạn tính (tính đến {ch.as_of:%d/%m/%Y}, trên {_field(ch, 'population')} đối tượng)",
        ["Nhóm bệnh", "Số người", "Tỷ lệ (%)"],
        [[r.label_vi, _num(r.cadres), _pct(r.prevalence)] for r in ch.rows]
        + [[f"Mắc đồng thời {r.conditions} nhóm bệnh", _num(r.cadres), ""] for r in ch.comorbidity],
    )


def report_tables(report: BoardReport) -> list[Table]:
    """The report's sections as (heading, header, rows): what both formats print."""
    conv = report.convalescence
    return [
        *words.before_figures(report.words),
        _cadre_table(report.cadres),
        *_coverage_tables(report.coverage),
        *_classification_tables(report.classification),
        _activity_table(report.activity),
        _chronic_table(report.chronic),
        (
            "An dưỡng, điều dưỡng",
            ["Đăng ký", "Đủ điều kiện", "Ghi chú"],
            [[_num(conv.registered), _num(conv.eligible), conv.note]],
        ),
        *words.after_figures(report.words),
        (
            "Kiểm tra số liệu (mỗi tổng bằng tổng các thành phần)",
            ["Nội dung", "Tổng", "Tổng thành phần", "Khớp"],
            [[c.label, _field(c, "total"), _field(c, "parts_sum"), "Đúng" if c.consistent else "SAI"] for c in report.checks],
        ),
    ]


def _heading_lines(report: BoardReport) -> list[str]:
    lines = [
        report.title,
        f"Đơn vị: {report.unit_name} ({report.unit})",
        f"Kỳ báo cáo: {report.period_start:%d/%m/%Y} - {report.period_end:%d/%m/%Y}; "
        f"lập lúc {report.generated_at:%d/%m/%Y %H:%M} UTC",
        "Số liệu kiểm tra: " + ("khớp" if report.consistent else "CÓ CHỖ KHÔNG KHỚP"),
    ]
    if report.message:
        lines.append(report.message)
    if report.aggregate_only:
        lines.append(
            f"Số liệu tổng hợp: các ô dưới {report.min_cell_size} người được ẩn {HIDDEN}, kèm ô bổ sung để không suy ra được"
        )
    return lines


def to_xlsx(report: BoardReport) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Báo cáo"
    bold = Font(bold=True)
    for line in _heading_lines(report):
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=13)
    for heading, header, rows in report_tables(report):
        sheet.append([])
        sheet.append([heading])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        sheet.append(header)
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for row in rows:
            sheet.append(row)
    sheet.column_dimensions["A"].width = 48
    for column in "BCDEF":
        sheet.column_dimensions[column].width = 16
    checks = book.create_sheet("Kiểm tra")
    checks.append(["Nội dung", "Tổng", "Các thành phần", "Tổng thành phần", "Khớp"])
    for c in report.checks:
        parts = HIDDEN if "parts" in c.suppressed else "; ".join(f"{k}={v}" for k, v in c.parts.items())
        checks.append([c.label, _field(c, "total"), parts, _field(c, "parts_sum"), c.consistent])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _widths(header: Sequence[str], usable: float) -> tuple[float, ...]:
    if len(header) == 1:  # a text section: the whole width
        return (usable,)
    first = min(usable * 0.45, 80.0) if len(header) > 2 else usable * 0.6
    rest = (usable - first) / max(len(header) - 1, 1)
    return (first, *([rest] * (len(header) - 1)))


def _pdf_cell(value: object) -> str:
    """Vietnamese digit grouping for whole numbers (5.900.000.000 đồng); the XLSX keeps numbers as numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", ".")
    return "" if value is None else str(value)


def to_pdf(report: BoardReport) -> bytes:
    pdf = FPDF(orientation="portrait", format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(0, 6, report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    for line in _heading_lines(report)[1:]:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    for heading, header, rows in report_tables(report):
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(0, 5, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        with pdf.table(col_widths=_widths(header, usable), headings_style=FontFace(emphasis="BOLD"), line_height=5) as table:
            table.row([str(h) for h in header])
            for row in rows:
                table.row([_pdf_cell(v) for v in row])
    return bytes(pdf.output())
