"""Residence addresses read to today's commune: the board's list of addresses to settle, the settlement, and
the bulk reading of every cadre's address."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class AddressStatus(StrEnum):
    RESOLVED = "resolved"  # one commune today: the residence unit was filled
    AMBIGUOUS = "ambiguous"  # several units today (a commune split): the board chooses
    UNRESOLVED = "unresolved"  # no commune of today found in the address: the board chooses
    SETTLED = "settled"  # the board chose the commune


class AddressReading(BaseModel):
    """How one cadre's residence address was read."""

    cadre_id: uuid.UUID
    full_name: str
    managing_unit: str
    address: str
    status: AddressStatus
    commune: str | None = Field(default=None, description="today's commune, when resolved or settled")
    candidates: list[str] = Field(default=[], description="the units the address maps to today, when several")
    reason: str | None = None
    latitude: float | None = Field(default=None, description="of the commune the parser found (WGS 84), for a map")
    longitude: float | None = None
    resolved_at: datetime
    settled_by: str | None = None


class AddressSettlement(BaseModel):
    commune: str = Field(min_length=2, max_length=100, description="path of today's commune, e.g. VN.68.24781")


class AddressBulkResolve(BaseModel):
    unit: str | None = Field(default=None, description="only cadres managed under this unit")
    reread: bool = Field(
        default=False, description="also cadres whose residence unit is a current unit (otherwise only empty or outdated)"
    )


class AddressBulkResult(BaseModel):
    examined: int = Field(description="cadres in your write scope with a residence address")
    resolved: int = Field(description="residence units filled or corrected")
    unchanged: int = Field(description="already at today's commune")
    ambiguous: int
    unresolved: int
    seconds: float
