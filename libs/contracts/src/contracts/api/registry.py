import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from contracts.enums import CadreStatus, EligibilityCategory, ManagementTier, Sex


class CadreBase(BaseModel):
    full_name: str = Field(min_length=2, max_length=200)
    date_of_birth: date
    sex: Sex
    national_id: str = Field(description="CCCD: 12 digits", pattern=r"^\d{12}$")
    tier: ManagementTier
    managing_unit: str = Field(description="Path of the managing board's unit, e.g. VN.68.672")
    eligibility: list[EligibilityCategory] = []
    position: str | None = Field(default=None, max_length=300)
    work_unit: str | None = Field(default=None, max_length=300)
    residence_address: str | None = Field(default=None, max_length=500)
    residence_unit: str | None = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .-]{8,16}$")


class CadreCreate(CadreBase):
    status: CadreStatus = CadreStatus.ACTIVE
    status_since: date | None = None


class CadrePublic(CadreBase):
    id: uuid.UUID
    status: CadreStatus
    status_since: date
    card_number: str | None = None
    created_at: datetime
    updated_at: datetime


class CadreCount(BaseModel):
    managing_unit: str
    tier: ManagementTier
    status: CadreStatus
    count: int


class UnitPublic(BaseModel):
    path: str
    code: str
    name: str
    level: str
    parent_path: str | None
    valid_from: date
    valid_to: date | None = None
