"""The boards that manage cadres, as data: which management tiers a board of each unit level may manage, per
province and period (registry /tiers/rules), and the managing bodies besides the administrative units
(registry /bodies)."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from contracts.enums import ManagementTier, UnitLevel


class TierRuleCreate(BaseModel):
    """A tier allowed at a unit level in one province from a date (to a date). Rules only allow: the national
    rules (before 1 July 2025 district boards, since then commune boards) hold in every province besides."""

    tier: ManagementTier
    level: UnitLevel
    province: str = Field(pattern=r"^VN\.\d{2}$", description="the province's path, e.g. VN.68")
    valid_from: date
    valid_to: date | None = Field(default=None, description="the first day it no longer holds; none: open")
    reason: str = Field(min_length=3, max_length=500)

    @model_validator(mode="after")
    def _period(self) -> "TierRuleCreate":
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError(f"valid_to ({self.valid_to}) is not after valid_from ({self.valid_from})")
        return self


class TierRulePublic(BaseModel):
    id: int
    tier: ManagementTier
    level: UnitLevel
    province: str | None  # None: every province
    valid_from: date
    valid_to: date | None
    reason: str
    recorded_by: str
    recorded_at: datetime


ManagingBodyKind = Literal["territorial", "non_territorial"]


class ManagingBodyCreate(BaseModel):
    """A board cadres may be managed by. Territorial: a current unit's board (its path is the unit's).
    Non-territorial: a path under VN whose first segment is not a unit code (VN.BQP, VN.BCA, VN.HDTW.1),
    with the unit level whose tier rules its cadres follow (default: province)."""

    path: str = Field(pattern=r"^VN(\.[A-Za-z0-9]{1,20}){1,4}$", max_length=100)
    name: str = Field(min_length=2, max_length=200)
    kind: ManagingBodyKind
    level: UnitLevel | None = None
    valid_from: date


class ManagingBodyPublic(BaseModel):
    path: str
    name: str
    kind: ManagingBodyKind
    level: UnitLevel
    valid_from: date
    valid_to: date | None = None
    successor: str | None = None


class BodyClosure(BaseModel):
    """Bodies end on `effective_date` and their cadres move to `into` (a current body or unit), in one
    transaction: a merge of several bodies, or a dissolution of one."""

    kind: Literal["merge", "dissolve"]
    bodies: list[str] = Field(min_length=1, max_length=50)
    into: str
    effective_date: date
    reason: str = Field(min_length=3, max_length=500)

    @model_validator(mode="after")
    def _shape(self) -> "BodyClosure":
        if self.kind == "dissolve" and len(self.bodies) != 1:
            raise ValueError("a dissolution names exactly one body")
        if self.into in self.bodies:
            raise ValueError(f"{self.into!r} cannot close into itself")
        return self


class BodyClosureResult(BaseModel):
    closed: list[str]
    into: str
    effective_date: date
    moved_cadres: int
