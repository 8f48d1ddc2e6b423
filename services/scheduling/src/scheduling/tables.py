"""Scheduling's tables, and only those."""

import uuid
from datetime import date, datetime

from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel

from servicekit.runtime import kit_tables_of


class SchedulingModel(SQLModel, registry=orm_registry()):
    pass


metadata = SchedulingModel.metadata
KIT = kit_tables_of(metadata)


class RosterCadre(SchedulingModel, table=True):
    """Scheduling's own read model of the registry: who may be invited, and where letters go."""

    cadre_id: uuid.UUID = Field(primary_key=True)
    full_name: str = Field(max_length=200)
    managing_unit: str = Field(max_length=100, index=True)
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)
    status_since: date
    residence_address: str | None = Field(default=None, max_length=500)
    updated_at: datetime
