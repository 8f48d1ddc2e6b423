"""Events published by the registry: topics `cadrecare.registry.cadre.v1` and `cadrecare.registry.unit.v1`.

Cadre events carry the cadre's whole snapshot after the change (event-carried state transfer), so
every other service can keep its read model with a plain upsert, whatever events it missed before.
"""

import uuid
from datetime import date
from typing import ClassVar

from pydantic import BaseModel

from contracts.enums import CadreStatus, EligibilityCategory, ManagementTier, Sex, UnitLevel
from contracts.envelope import DomainEvent


class CadreSnapshot(BaseModel):
    id: uuid.UUID
    full_name: str
    date_of_birth: date
    sex: Sex
    national_id: str
    tier: ManagementTier
    status: CadreStatus
    status_since: date
    managing_unit: str  # materialised path of the managing board's unit, e.g. "VN.68.672"
    eligibility: list[EligibilityCategory] = []
    position: str | None = None
    work_unit: str | None = None
    residence_address: str | None = None
    residence_unit: str | None = None
    phone: str | None = None
    card_number: str | None = None
    # Added in v1 (optional: earlier events parse without them): the BHYT card, how a hospital's
    # QĐ 130 XML names a patient when SO_CCCD is missing
    bhyt_number: str | None = None
    bhyt_valid_from: date | None = None
    bhyt_valid_to: date | None = None


class CadreEvent(DomainEvent):
    cadre: CadreSnapshot

    @property
    def stated_effective_date(self) -> date | None:
        """The date the change took effect, for the kinds that state one (retired, transferred, ...)."""
        # read as pydantic keeps fields: getattr with a default, on a kind without the field, raises and catches
        # inside pydantic (a twentieth of a reporting rebuild's consumer time)
        value = self.__dict__.get("effective_date")
        return value if isinstance(value, date) else None


class CadreRegistered(CadreEvent):
    event_type: ClassVar[str] = "vn.cadrecare.registry.cadre.registered"


class CadreUpdated(CadreEvent):
    event_type: ClassVar[str] = "vn.cadrecare.registry.cadre.updated"
    changed_fields: list[str]


class CadreRetired(CadreEvent):
    event_type: ClassVar[str] = "vn.cadrecare.registry.cadre.retired"
    effective_date: date


class CadreTierChanged(CadreEvent):
    event_type: ClassVar[str] = "vn.cadrecare.registry.cadre.tier_changed"
    previous_tier: ManagementTier
    effective_date: date


class CadreDied(CadreEvent):
    event_type: ClassVar[str] = "vn.cadrecare.registry.cadre.died"
    effective_date: date


class CadreRemoved(CadreEvent):
    event_type: ClassVar[str] = "vn.cadrecare.registry.cadre.removed"
    effective_date: date
    reason: str


class CadreTransferred(CadreEvent):
    """The managing unit changed: by a transfer, or by a reorganisation of units (`reorganisation_id` set)."""

    event_type: ClassVar[str] = "vn.cadrecare.registry.cadre.transferred"
    previous_managing_unit: str
    effective_date: date
    reason: str
    reorganisation_id: uuid.UUID | None = None


class CardIssued(CadreEvent):
    event_type: ClassVar[str] = "vn.cadrecare.registry.cadre.card_issued"
    card_number: str
    replaces_card_number: str | None = None


class UnitSnapshot(BaseModel):
    path: str  # e.g. "VN.68.672"; the last segment is the official GSO code
    code: str
    name: str
    level: UnitLevel
    parent_path: str | None
    valid_from: date
    valid_to: date | None = None
    # Added in v1 (optional): WGS 84, from the national data set; None for units entered without them
    latitude: float | None = None
    longitude: float | None = None


class UnitCreated(DomainEvent):
    event_type: ClassVar[str] = "vn.cadrecare.registry.unit.created"
    unit: UnitSnapshot


class UnitRenamed(DomainEvent):
    event_type: ClassVar[str] = "vn.cadrecare.registry.unit.renamed"
    unit: UnitSnapshot
    previous_name: str


class UnitsReorganized(DomainEvent):
    """Units merged, split or dissolved on one date; `mapping` sends each old path to its successors.

    `retired_units` are the versions that ended on `effective_date` (their `valid_to` set); `created_units`
    the versions that start on it (a surviving path such as a merge target gets a new version). Every
    cadre whose managing unit moved also gets its own `CadreTransferred` with the same `reorganisation_id`.
    """

    event_type: ClassVar[str] = "vn.cadrecare.registry.unit.reorganized"
    kind: str  # "merge" | "split" | "dissolve" (a level dissolved: children moved up) | "rename"
    effective_date: date
    retired_units: list[UnitSnapshot]
    created_units: list[UnitSnapshot]
    mapping: dict[str, list[str]]
    moved_cadres: int
    reorganisation_id: uuid.UUID | None = None
    reason: str | None = None


EVENTS: tuple[type[DomainEvent], ...] = (
    CadreRegistered,
    CadreUpdated,
    CadreRetired,
    CadreTierChanged,
    CadreDied,
    CadreRemoved,
    CadreTransferred,
    CardIssued,
    UnitCreated,
    UnitRenamed,
    UnitsReorganized,
)
