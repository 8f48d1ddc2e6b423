"""The board's own words as the report prints them, in the order of seed 003: the board and its expert council
(Tổ chức bộ máy) before the figures; budget and spending, the overall assessment (Đánh giá chung) after them;
the next period's tasks (Phương hướng nhiệm vụ) last. Amounts are whole đồng."""

from contracts.api.report_words import ReportWords

Table = tuple[str, list[str], list[list[object]]]
BODIES = {"board": "Ban Bảo vệ, chăm sóc sức khỏe cán bộ", "council": "Hội đồng chuyên môn"}
NOT_WRITTEN = "(Ban chưa viết phần này)"


def _paragraphs(text: str) -> list[list[object]]:
    return [[p.strip()] for p in text.splitlines() if p.strip()] or [[NOT_WRITTEN]]


def before_figures(words: ReportWords | None) -> list[Table]:
    if words is None:
        return []
    members: list[list[object]] = [[BODIES[m.body], m.name, m.role] for m in words.members] or [["", NOT_WRITTEN, ""]]
    return [("Tổ chức bộ máy: thành viên Ban và Hội đồng chuyên môn", ["Thuộc", "Họ và tên", "Chức vụ"], members)]


def after_figures(words: ReportWords | None) -> list[Table]:
    if words is None:
        return []
    budget: list[list[object]] = [
        [b.label, b.allocated_dong, b.spent_dong if b.spent_dong is not None else "-"] for b in words.budget
    ]
    if words.budget:
        spent = [b.spent_dong for b in words.budget if b.spent_dong is not None]
        budget.append(["Tổng cộng", sum(b.allocated_dong for b in words.budget), sum(spent) if spent else "-"])
    return [
        ("Kinh phí (đồng)", ["Nội dung", "Được cấp (đồng)", "Đã chi (đồng)"], budget or [[NOT_WRITTEN, "-", "-"]]),
        ("2. Đánh giá chung", ["Nội dung"], _paragraphs(words.assessment)),
        ("II. Phương hướng nhiệm vụ kỳ tới", ["Nội dung"], _paragraphs(words.next_tasks)),
    ]
