"""The gateway's own API: grants (data, with history), break-the-glass access, the audit trail."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from contracts.enums import Action, ManagementTier

UNIT_PATH_PATTERN = r"^VN(\.[0-9A-Za-z]{1,10}){0,4}$"


class GrantCreate(BaseModel):
    subject: str = Field(min_length=3, max_length=200, description="e.g. user:dalat, client:his-bvdk-lamdong")
    unit_path: str = Field(pattern=UNIT_PATH_PATTERN, description="materialised path of official codes, e.g. VN.68.672")
    tiers: list[ManagementTier] = Field(min_length=1)
    actions: list[Action] = Field(min_length=1)
    central_tier_health_records: bool = Field(
        default=False,
        description="also read the health records of central-tier cadres (needs the central tier and read; "
        "only a holder of the flag over the unit may hand it out)",
    )
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    reason: str = Field(default="", max_length=500)


class GrantRecord(BaseModel):
    id: uuid.UUID
    subject: str
    unit_path: str
    tiers: list[ManagementTier]
    actions: list[Action]
    central_tier_health_records: bool = False
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    reason: str = ""
    granted_by: str
    granted_at: datetime
    revoked_by: str | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    replaces: uuid.UUID | None = None


class PrincipalSummary(BaseModel):
    subject: str
    kind: str
    display_name: str = ""
    permissions: list[str] = []
    grants: list[GrantRecord] = []


class BreakGlassCreate(BaseModel):
    cadre_id: uuid.UUID
    reason: str = Field(min_length=20, max_length=2000, description="why this record must be read now")
    minutes: int | None = Field(default=None, ge=1, description="shorter than the configured default if given")


class BreakGlassRecord(BaseModel):
    id: uuid.UUID
    subject: str
    cadre_id: uuid.UUID
    managing_unit: str
    tier: ManagementTier
    reason: str
    granted_at: datetime
    expires_at: datetime
    active: bool
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


class AuditRecord(BaseModel):
    seq: int
    at: datetime
    actor: str
    actor_kind: str
    actor_unit: str | None = None
    on_behalf_of: str | None = None
    operation: str
    method: str
    path: str
    subjects: list[str]
    outcome: str
    status_code: int
    client_address: str | None = None
    correlation_id: str | None = None
    break_glass_id: str | None = None
    detail: str | None = None
    prev_hash: str
    hash: str


class AuditVerification(BaseModel):
    valid: bool
    records_checked: int
    first_seq: int
    last_seq: int
    first_broken_seq: int | None = None
    problem: str | None = None


class AuditPurge(BaseModel):
    purged: int
    anchor_seq: int


class GrantRevoke(BaseModel):
    reason: str = Field(min_length=3, max_length=500)
