"""The national load of administrative units over HTTP (registry `POST /units/national`): the whole country before
and after 1 July 2025, loaded from the unit packages."""

import uuid
from typing import Literal

from pydantic import BaseModel, Field

Retier = Literal["provincial_3", "commune"]  # where a dissolved district's district-tier cadres go
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
