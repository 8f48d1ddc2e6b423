"""The registry's tables, and only those."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, UniqueConstraint, false
from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel

from servicekit import clock
from servicekit.columns import UnitColumns
from servicekit.runtime import kit_tables_of


class RegistryModel(SQLModel, registry=orm_registry()):
    pass


metadata = RegistryModel.metadata
KIT = kit_tables_of(metadata)

BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


def _scope_index(name: str, *columns: str) -> Index:
    """A b-tree led by the managing unit, usable by `LIKE 'VN.68%'` on PostgreSQL whatever the collation, and
    covering the columns that counts group by (index-only scans for counts under a unit)."""
    return Index(name, "managing_unit", *columns, postgresql_ops={"managing_unit": "varchar_pattern_ops"})


class Unit(RegistryModel, UnitColumns, table=True):
    """One version of an administrative unit: a path may have several versions over time (rename, merge target)."""

    __table_args__ = (
        UniqueConstraint("path", "valid_from", name="uq_unit_path_valid_from"),
        # `LIKE 'VN.68%'` on PostgreSQL whatever the collation: listing under a province of the national tree
        Index("ix_unit_path_prefix", "path", "valid_from", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    path: str = Field(max_length=100, index=True)
    latitude: float | None = None  # WGS 84, from the national data set; None for units entered by hand
    longitude: float | None = None


class Reorganisation(RegistryModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    effective_date: date
    reason: str = Field(max_length=500)
    operations: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    moved_cadres: int = 0
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=clock.now)


class UnitSuccession(RegistryModel, table=True):
    """Old unit path -> successor path, from a reorganisation (many-to-many: merges and splits)."""

    __tablename__ = "unit_succession"

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    reorganisation_id: uuid.UUID = Field(index=True)
    effective_date: date
    old_path: str = Field(max_length=100, index=True)
    new_path: str = Field(max_length=100, index=True)
    # where an old unit's people go when nothing else says (a split commune's official default successor)
    is_default: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Cadre(RegistryModel, table=True):
    __table_args__ = (
        _scope_index("ix_cadre_scope", "tier", "status", "name_folded", "id"),  # counts, and pages in name order
        Index(
            "ix_cadre_name_trgm",
            "name_folded",
            postgresql_using="gin",
            postgresql_ops={"name_folded": "gin_trgm_ops"},
        ),
        Index("ix_cadre_name_dob", "name_folded", "date_of_birth"),
        Index("ix_cadre_name_prefix", "name_folded", postgresql_ops={"name_folded": "varchar_pattern_ops"}),
        Index("ix_cadre_name_key", "name_key", postgresql_ops={"name_key": "varchar_pattern_ops"}),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    full_name: str = Field(max_length=200)
    name_folded: str = Field(max_length=200, index=True)  # lower case, without diacritics, for search
    name_key: str = Field(default="", max_length=200)  # name_folded with the given name first: 'duc nguyen van'
    date_of_birth: date
    sex: str = Field(max_length=10)
    national_id: str = Field(max_length=12, unique=True)
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)
    status_since: date
    managing_unit: str = Field(max_length=100)
    eligibility: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: str | None = Field(default=None, max_length=300)
    work_unit: str | None = Field(default=None, max_length=300)
    residence_address: str | None = Field(default=None, max_length=500)
    residence_unit: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    card_number: str | None = Field(default=None, max_length=30, unique=True)
    # the health-insurance card: not unique (a 12-digit BHYT code is a CCCD, a card may be re-keyed by BHXH)
    bhyt_number: str | None = Field(default=None, max_length=15, index=True)
    bhyt_valid_from: date | None = None
    bhyt_valid_to: date | None = None
    created_at: datetime = Field(default_factory=clock.now)
    updated_at: datetime = Field(default_factory=clock.now)


class CadrePeriod(RegistryModel, table=True):
    """An interval [valid_from, valid_to) in which a cadre's tier, status and managing unit held: as-of counts."""

    __tablename__ = "cadre_period"
    __table_args__ = (
        _scope_index("ix_cadre_period_scope", "tier", "status", "valid_from", "valid_to"),
        Index("ix_cadre_period_cadre_open", "cadre_id", "valid_to"),
    )

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    cadre_id: uuid.UUID
    valid_from: date
    valid_to: date | None = None
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)
    managing_unit: str = Field(max_length=100)


class CadreChange(RegistryModel, table=True):
    """Every change to a cadre: who, when, which field, the old and the new value."""

    __tablename__ = "cadre_change"

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    cadre_id: uuid.UUID = Field(index=True)
    changed_at: datetime = Field(default_factory=clock.now)
    changed_by: str = Field(max_length=200)
    operation: str = Field(max_length=30)
    field: str = Field(max_length=50)
    old_value: str | None = Field(default=None, max_length=500)
    new_value: str | None = Field(default=None, max_length=500)
    effective_date: date | None = None
    reason: str | None = Field(default=None, max_length=500)


class Card(RegistryModel, table=True):
    """Health-care cards (thẻ khám chữa bệnh): invalidated when replaced, never deleted."""

    number: str = Field(primary_key=True, max_length=30)
    cadre_id: uuid.UUID = Field(index=True)
    issued_on: date
    issued_by: str = Field(max_length=200)
    valid: bool = True
    invalidated_on: date | None = None
    invalidation_reason: str | None = Field(default=None, max_length=300)
    replaced_by: str | None = Field(default=None, max_length=30)


class Proposal(RegistryModel, table=True):
    """A proposed beneficiary: proposed -> appraised -> approved (creates the cadre) or rejected."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    status: str = Field(max_length=20, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    full_name: str = Field(max_length=200)
    national_id: str = Field(max_length=12, index=True)
    tier: str = Field(max_length=30)
    managing_unit: str = Field(max_length=100, index=True)
    justification: str = Field(max_length=2000)
    proposed_by: str = Field(max_length=200)
    proposed_at: datetime = Field(default_factory=clock.now)
    appraised_by: str | None = Field(default=None, max_length=200)
    appraisal_recommend: bool | None = None
    appraisal_note: str | None = Field(default=None, max_length=2000)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = None
    decision_reason: str | None = Field(default=None, max_length=2000)
    cadre_id: uuid.UUID | None = None


class AddressResolution(RegistryModel, table=True):
    """How a cadre's residence address was read: today's commune, or why not (the board's list to settle)."""

    __tablename__ = "address_resolution"

    cadre_id: uuid.UUID = Field(primary_key=True)
    address: str = Field(max_length=500)
    status: str = Field(max_length=20, index=True)  # resolved, ambiguous, unresolved, settled
    commune: str | None = Field(default=None, max_length=100)
    candidates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason: str | None = Field(default=None, max_length=300)
    latitude: float | None = None  # of the commune the parser found, for a map
    longitude: float | None = None
    resolved_at: datetime = Field(default_factory=clock.now)
    settled_by: str | None = Field(default=None, max_length=200)


class TierRuleRecord(RegistryModel, table=True):
    """A management tier allowed at a unit level from a date (to a date), in every province (province None) or
    in one; registry.domain.tier_allowed reads them. Rules are only ever added, so past checks stay explainable."""

    __tablename__ = "tier_rule"

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    tier: str = Field(max_length=30)
    level: str = Field(max_length=20)
    province: str | None = Field(default=None, max_length=100, index=True)
    valid_from: date
    valid_to: date | None = None
    reason: str = Field(max_length=500)
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=clock.now)


class ManagingBody(RegistryModel, table=True):
    """A board a cadre's managing unit may name: territorial (its path is an administrative unit's) or not
    (`VN.BQP`, `VN.BCA`, `VN.HDTW.1`: paths under VN that no administrative unit uses). Scope is the path."""

    __tablename__ = "managing_body"
    __table_args__ = (UniqueConstraint("path", "valid_from", name="uq_managing_body_path_valid_from"),)

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    path: str = Field(max_length=100, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # territorial, non_territorial
    level: str = Field(max_length=20)  # the unit level whose tier rules apply to its cadres
    valid_from: date
    valid_to: date | None = None
    successor: str | None = Field(default=None, max_length=100)  # where its cadres went when it closed
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=clock.now)
