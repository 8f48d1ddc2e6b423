"""The report's own words: what a board writes into its six-monthly or yearly report besides the computed
figures (seed 003's "Đánh giá chung" and "Phương hướng nhiệm vụ", seed 001's budget, the board and its council).

Kept apart from `contracts.api.reporting` and `contracts.api.approvals` so that both can name it: the words are
stored with a draft (approvals) and printed in the submitted document (`BoardReport.words`)."""

from typing import Literal

from pydantic import BaseModel, Field

MAX_AMOUNT_DONG = 10**15  # a thousand trillion đồng: far above any board's budget, below any integer column's limit


class BudgetLine(BaseModel):
    """One line of budget and spending, in đồng as integers ("hơn 5,9 tỷ đồng" is about 5_900_000_000)."""

    label: str = Field(min_length=2, max_length=300, examples=["Ngân sách tỉnh cấp"])
    allocated_dong: int = Field(ge=0, le=MAX_AMOUNT_DONG)
    spent_dong: int | None = Field(default=None, ge=0, le=MAX_AMOUNT_DONG)


class Member(BaseModel):
    """A member of the board (Ban) or of its expert council (Hội đồng chuyên môn)."""

    name: str = Field(min_length=2, max_length=200)
    role: str = Field(min_length=2, max_length=300, examples=["Phó Trưởng ban Thường trực - Giám đốc Sở Y tế"])
    body: Literal["board", "council"] = "board"


class ReportWords(BaseModel):
    """Written by the board; empty until it writes them."""

    assessment: str = Field(default="", max_length=20_000, description="Đánh giá chung")
    next_tasks: str = Field(default="", max_length=20_000, description="Phương hướng nhiệm vụ kỳ tới")
    budget: list[BudgetLine] = Field(default=[], max_length=50)
    members: list[Member] = Field(default=[], max_length=100)
