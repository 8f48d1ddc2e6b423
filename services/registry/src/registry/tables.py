"""The registry's tables, and only those."""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import JSON, Column
from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel

from servicekit.runtime import kit_tables_of


class RegistryModel(SQLModel, registry=orm_registry()):
    pass


metadata = RegistryModel.metadata
KIT = kit_tables_of(metadata)


def _now() -> datetime:
    return datetime.now(UTC)


class Unit(RegistryModel, table=True):
    path: str = Field(primary_key=True, max_length=100)
    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    level: str = Field(max_length=20)
    parent_path: str | None = Field(default=None, max_length=100, index=True)
    valid_from: date
    valid_to: date | None = None


class Cadre(RegistryModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    full_name: str = Field(max_length=200)
    name_folded: str = Field(max_length=200, index=True)  # lower case, without diacritics, for search
    date_of_birth: date
    sex: str = Field(max_length=10)
    national_id: str = Field(max_length=12, unique=True)
    tier: str = Field(max_length=30, index=True)
    status: str = Field(max_length=20)
    status_since: date
    managing_unit: str = Field(max_length=100, index=True)
    eligibility: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: str | None = Field(default=None, max_length=300)
    work_unit: str | None = Field(default=None, max_length=300)
    residence_address: str | None = Field(default=None, max_length=500)
    residence_unit: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    card_number: str | None = Field(default=None, max_length=30, unique=True)
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)
