from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class FieldError(BaseModel):
    """One reason a request was refused: which field (as a path) and why."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """Every error answer: a stable code, a human sentence, and the field errors if any."""

    code: str
    detail: str
    errors: list[FieldError] = []
    correlation_id: str | None = None


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}
