"""Clinical's tables, and only those."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel

from servicekit.runtime import kit_tables_of

JsonType = JSON().with_variant(postgresql.JSONB(), "postgresql")


class ClinicalModel(SQLModel, registry=orm_registry()):
    pass


metadata = ClinicalModel.metadata
KIT = kit_tables_of(metadata)


class PatientCadre(ClinicalModel, table=True):
    """Clinical's own read model of the registry: how a hospital's card number or CCCD finds a cadre."""

    cadre_id: uuid.UUID = Field(primary_key=True)
    national_id: str = Field(max_length=12, unique=True)
    card_number: str | None = Field(default=None, max_length=30, index=True)
    bhyt_number: str | None = Field(default=None, max_length=15, index=True)  # how QĐ 130 XML names a patient
    bhyt_valid_to: date | None = None
    managing_unit: str = Field(max_length=100, index=True)
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)
    date_of_death: date | None = None
    updated_at: datetime


class ClinicalRecord(ClinicalModel, table=True):
    """The current version of one record a facility posted; (facility, external_id) names it for ever.

    managing_unit and tier are the cadre's at write time (from the read model), kept in step when the
    registry moves the cadre: every read is scope-filtered on them.
    """

    __tablename__ = "clinical_record"
    __table_args__ = (
        UniqueConstraint("facility", "external_id", name="uq_clinical_record_facility_external_id"),
        # a b-tree usable by the scope filter's `LIKE 'VN.68.%'` on PostgreSQL whatever the collation
        Index("ix_clinical_record_managing_unit", "managing_unit", postgresql_ops={"managing_unit": "varchar_pattern_ops"}),
        Index("ix_clinical_record_cadre_occurred", "cadre_id", "occurred_on"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    facility: str = Field(max_length=50)
    external_id: str = Field(max_length=100)
    kind: str = Field(max_length=30)
    cadre_id: uuid.UUID
    managing_unit: str = Field(max_length=100)
    tier: str = Field(max_length=30)
    version: int
    status: str = Field(max_length=20)  # current | withdrawn
    occurred_on: date
    ended_on: date | None = None
    body: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    body_hash: str = Field(max_length=64)
    withdrawn_reason: str | None = Field(default=None, max_length=1000)
    recorded_at: datetime
    updated_at: datetime


class ClinicalRecordVersion(ClinicalModel, table=True):
    """Every version of every record, never changed: amendments and withdrawals add a row."""

    __tablename__ = "clinical_record_version"

    record_id: uuid.UUID = Field(primary_key=True, foreign_key="clinical_record.id")
    version: int = Field(primary_key=True)
    change: str = Field(max_length=20)  # created | correction | transfer | discharge | withdrawn
    body: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    body_hash: str = Field(max_length=64)
    recorded_at: datetime
    recorded_by: str = Field(max_length=200)


class Xml130File(ClinicalModel, table=True):
    """One inner file (XML1, XML2, ...) of a QĐ 130 encounter as the facility sent it, zlib-compressed: kept for
    audit and reprocessing, a new version only when its content changed. Only cadres' encounters are kept.

    (facility, ma_lk) is the encounter; the tables of one encounter may come in separate uploads, so the
    encounter is rebuilt from the latest version of each table."""

    __tablename__ = "xml130_file"
    __table_args__ = (UniqueConstraint("facility", "ma_lk", "table_name", "version", name="uq_xml130_file_version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    facility: str = Field(max_length=50)
    ma_cskcb: str = Field(max_length=10)
    ma_lk: str = Field(max_length=100)
    table_name: str = Field(max_length=10)  # XML1 ... XML15
    version: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    envelope_sha256: str = Field(max_length=64)
    signature: str = Field(max_length=20)  # verified | absent | unverified
    received_at: datetime
    received_by: str = Field(max_length=200)


class Facility(ClinicalModel, table=True):
    """A health-care facility registered by name (FHIR Organization): its code is the one records carry
    (ClinicalRecord.facility, the MA_CSKCB-based code). A code that posted records without being registered
    is still a facility (served with its code as its name); registering it only adds what is known of it.

    search_name: the name folded (lower case, no diacritics, đ → d) so that a name search matches on both
    databases alike (SQLite's lower() knows only ASCII)."""

    code: str = Field(primary_key=True, max_length=50)
    name: str = Field(max_length=300)
    search_name: str = Field(max_length=300, index=True)
    address: str | None = Field(default=None, max_length=500)
    unit_path: str | None = Field(default=None, max_length=100)  # the administrative unit it is in, e.g. VN.68
    active: bool = True
    version: int
    created_at: datetime
    updated_at: datetime
