"""The national load's request and answer over HTTP (POST /units/national).

They belong with the registry's other API shapes in contracts/api/registry.py; they are here only until that file
(being changed by another piece of work) takes them."""

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from registry.units.national_moves import Retier

Stage = Literal["legacy", "2025", "all"]


class NationalLoad(BaseModel):
    stage: Stage = "all"
    provinces: list[str] | None = Field(
        default=None, description="only these provinces of the 2025 map (e.g. VN.68) and the provinces merged into them"
    )
    retier: dict[str, Retier] = Field(
        default={},
        description="new province path -> where its district-tier cadres go when districts end: 'commune' (default: the "
        "commune tier, at the commune of their residence if it succeeds their district, else the district's default "
        "successor) or 'provincial_3' (provincial group 3, at the province)",
    )


class NationalLoadResult(BaseModel):
    stage: Stage
    created: int = Field(description="unit versions created")
    already_present: int = Field(description="unit versions that were already there")
    closed: int = Field(description="unit versions ended on 2025-07-01")
    successions: int = Field(description="old -> new unit rows recorded")
    moved_cadres: int
    retiered_cadres: int
    events: int = Field(description="events written to the outbox")
    reorganisation_id: uuid.UUID | None = None
