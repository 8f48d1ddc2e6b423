"""Reporting's read models, and only those."""

import uuid
from datetime import date, datetime

from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel

from servicekit.runtime import kit_tables_of


class ReportingModel(SQLModel, registry=orm_registry()):
    pass


metadata = ReportingModel.metadata
KIT = kit_tables_of(metadata)


class CadreFact(ReportingModel, table=True):
    """One row per cadre: the latest snapshot the registry published, without personal details."""

    cadre_id: uuid.UUID = Field(primary_key=True)
    managing_unit: str = Field(max_length=100, index=True)
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)
    status_since: date
    updated_at: datetime
