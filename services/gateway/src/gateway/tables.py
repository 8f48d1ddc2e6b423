"""The gateway's tables, and only those: who may sign in (users and HIS clients), grants with their history,
the cadres' scope keys (a read model of the registry), break-the-glass grants, the hash-chained audit trail,
refresh and revoked tokens."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Integer, false
from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel

from servicekit import clock
from servicekit.runtime import kit_tables_of

BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class GatewayModel(SQLModel, registry=orm_registry()):
    pass


metadata = GatewayModel.metadata
KIT = kit_tables_of(metadata)


def _now() -> datetime:
    return clock.now()


class IdentityRow(GatewayModel, table=True):
    """A staff user or a HIS client that may sign in. Rows are never deleted: a disabled one keeps its row
    (disabled_at set), so who existed stays known to the audit trail. Its grants are rows of `grants`."""

    __tablename__ = "identities"

    subject: str = Field(primary_key=True, max_length=200)  # user:<username> or client:<client_id>
    login: str = Field(max_length=10)  # "user" (password) or "client" (client credentials)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=30)  # contracts.scope.PrincipalKind
    display_name: str = Field(default="", max_length=200)
    role: str | None = Field(default=None, max_length=50)  # the role template it was created with, if any
    unit_path: str = Field(max_length=100, index=True)  # the board it belongs to: decides who administers it
    facility: str | None = Field(default=None, max_length=50)  # HIS clients: the facility they post for
    permissions: list[str] = Field(sa_column=Column(JSON, nullable=False))
    secret_hash: str = Field(max_length=200)  # argon2
    secret_changed_at: datetime = Field(default_factory=_now)
    source: str = Field(max_length=10)  # "file" (the principals file) or "api"
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_now)
    disabled_at: datetime | None = None
    disabled_by: str | None = Field(default=None, max_length=200)
    disable_reason: str | None = Field(default=None, max_length=500)
    failed_signins: int = Field(default=0)
    locked_until: datetime | None = None


class GrantRow(GatewayModel, table=True):
    """One grant of one principal. Rows are never deleted: a revoked or replaced grant keeps its row
    (revoked_at set), so the table is the grant history."""

    __tablename__ = "grants"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    subject: str = Field(max_length=200, index=True)
    unit_path: str = Field(max_length=100, index=True)
    tiers: list[str] = Field(sa_column=Column(JSON, nullable=False))
    actions: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # also opens central-tier cadres' health records (contracts.scope.Grant); false for rows written before it
    central_tier_health_records: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    reason: str = Field(default="", max_length=500)
    granted_by: str = Field(max_length=200)
    granted_at: datetime = Field(default_factory=_now)
    revoked_by: str | None = Field(default=None, max_length=200)
    revoked_at: datetime | None = Field(default=None, index=True)
    revoke_reason: str | None = Field(default=None, max_length=500)
    replaces: uuid.UUID | None = None  # the grant this one was remapped from (unit reorganisation)


class CadreScope(GatewayModel, table=True):
    """Where each cadre belongs (managing unit, tier), kept from the registry's events."""

    __tablename__ = "cadre_scope"

    cadre_id: uuid.UUID = Field(primary_key=True)
    managing_unit: str = Field(max_length=100, index=True)
    tier: str = Field(max_length=30)
    updated_at: datetime = Field(default_factory=_now)


class BreakGlassRow(GatewayModel, table=True):
    """Time-boxed read access to one out-of-scope record, with the reason; reported to the record's board."""

    __tablename__ = "break_glass"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    subject: str = Field(max_length=200, index=True)
    cadre_id: uuid.UUID = Field(index=True)
    managing_unit: str = Field(max_length=100, index=True)
    tier: str = Field(max_length=30)
    reason: str = Field(max_length=2000)
    granted_at: datetime = Field(default_factory=_now)
    expires_at: datetime
    acknowledged_by: str | None = Field(default=None, max_length=200)
    acknowledged_at: datetime | None = None


class AuditRecordRow(GatewayModel, table=True):
    """One line of the audit trail. Append-only; `hash` chains each record to the one before it."""

    __tablename__ = "audit_records"

    seq: int = Field(sa_column=Column(BigIntId, primary_key=True, autoincrement=False))
    at: datetime = Field(index=True)
    actor: str = Field(max_length=200, index=True)
    actor_kind: str = Field(max_length=30)
    actor_unit: str | None = Field(default=None, max_length=100, index=True)
    on_behalf_of: str | None = Field(default=None, max_length=200)
    operation: str = Field(max_length=300)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    subjects: list[str] = Field(sa_column=Column(JSON, nullable=False))
    outcome: str = Field(max_length=30)
    status_code: int
    client_address: str | None = Field(default=None, max_length=100)
    correlation_id: str | None = Field(default=None, max_length=64)
    break_glass_id: str | None = Field(default=None, max_length=36)
    detail: str | None = Field(default=None, max_length=2000)
    prev_hash: str = Field(max_length=64)
    # Not unique: nothing looks a record up by its hash, and the chain check recomputes every one. Its unique
    # index (random 64-character keys) cost 30 -> 17-24 us of SQLite per appended record (migration 0006).
    hash: str = Field(max_length=64)
    entry_id: str | None = Field(default=None, max_length=32, unique=True)  # from the audit journal: replayed once


class AuditSubjectRow(GatewayModel, table=True):
    """Index: which cadres each audit record names (queries by cadre and by the auditor's scope)."""

    __tablename__ = "audit_subjects"

    seq: int = Field(sa_column=Column(BigIntId, primary_key=True, autoincrement=False))
    cadre_id: uuid.UUID = Field(primary_key=True, index=True)


class AuditChainHead(GatewayModel, table=True):
    """One row: the last sequence number and hash, locked by every append; and the retention anchor."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    last_hash: str = Field(max_length=64)
    anchor_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    anchor_hash: str = Field(max_length=64)  # prev_hash of the first retained record


class RefreshTokenRow(GatewayModel, table=True):
    """Refresh tokens are stored hashed; each use rotates it, and a replayed one revokes its family."""

    __tablename__ = "refresh_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    family: str = Field(max_length=36, index=True)
    subject: str = Field(max_length=200, index=True)
    issued_at: datetime = Field(default_factory=_now)
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class RevokedTokenRow(GatewayModel, table=True):
    """Access tokens revoked before their expiry (by jti); rows can go once the token has expired."""

    __tablename__ = "revoked_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    subject: str = Field(max_length=200)
    expires_at: datetime = Field(index=True)
    revoked_at: datetime = Field(default_factory=_now)
