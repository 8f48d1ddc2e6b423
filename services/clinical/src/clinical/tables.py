"""Clinical's tables, and only those."""

import uuid
from datetime import datetime

from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel

from servicekit.runtime import kit_tables_of


class ClinicalModel(SQLModel, registry=orm_registry()):
    pass


metadata = ClinicalModel.metadata
KIT = kit_tables_of(metadata)


class PatientCadre(ClinicalModel, table=True):
    """Clinical's own read model of the registry: how a hospital's card number or CCCD finds a cadre."""

    cadre_id: uuid.UUID = Field(primary_key=True)
    national_id: str = Field(max_length=12, unique=True)
    card_number: str | None = Field(default=None, max_length=30, index=True)
    managing_unit: str = Field(max_length=100, index=True)
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)
    updated_at: datetime
