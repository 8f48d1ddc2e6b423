"""The gateway's identity administration: a board's administrators manage the users and HIS clients of their
own scope (`/api/v1/gateway/users`, `/api/v1/gateway/his-clients`, `/api/v1/gateway/roles`)."""

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from contracts.api.gateway import UNIT_PATH_PATTERN
from contracts.scope import Grant

LOGIN_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"
FACILITY_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._-]{1,49}$"


def _plain(value: str) -> str:
    """Control characters and lone surrogates have no place in a name, a reason or a password (and neither
    PostgreSQL's text nor argon2's UTF-8 takes them)."""
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise ValueError("control characters are not allowed")
    return value


PlainText = Annotated[str, AfterValidator(_plain)]


class UserCreate(BaseModel):
    username: str = Field(pattern=LOGIN_NAME_PATTERN, description="lower-case letters, digits, '.', '_', '-'; 3 to 64")
    display_name: PlainText = Field(default="", max_length=200)
    password: PlainText = Field(max_length=1024, description="the gateway's password policy applies (a minimum length)")
    role: str = Field(min_length=1, max_length=50, description="a role template by name: GET /gateway/roles")
    unit: str | None = Field(
        default=None, pattern=UNIT_PATH_PATTERN, description="the unit the role applies to (none for roles of everywhere)"
    )


class HisClientCreate(BaseModel):
    client_id: str = Field(pattern=LOGIN_NAME_PATTERN, description="e.g. his-bvdk-lamdong")
    display_name: PlainText = Field(default="", max_length=200)
    facility: str = Field(pattern=FACILITY_PATTERN, description="the facility code its records are posted for")
    unit: str = Field(pattern=UNIT_PATH_PATTERN, description="the unit whose cadres it writes records for, e.g. VN.68")


class IdentityDisable(BaseModel):
    reason: PlainText = Field(min_length=3, max_length=500)


class PasswordSet(BaseModel):
    password: PlainText = Field(max_length=1024)


class Identity(BaseModel):
    """A user or a HIS client as its administrators see it: never its secret."""

    subject: str
    login: Literal["user", "client"]
    name: str
    kind: str
    display_name: str
    role: str | None = None
    unit_path: str
    facility: str | None = None
    permissions: list[str]
    grants: list[Grant] = Field(description="the grants in force now")
    status: Literal["active", "disabled", "locked"]
    source: Literal["file", "api"]
    created_by: str
    created_at: datetime
    secret_changed_at: datetime
    disabled_at: datetime | None = None
    disabled_by: str | None = None
    disable_reason: str | None = None
    failed_signins: int = 0
    locked_until: datetime | None = None


class HisClientSecret(BaseModel):
    """The answer that carries a HIS client's secret: the only time it is ever shown."""

    client: Identity
    client_secret: str = Field(description="shown once: the gateway keeps only its argon2 hash")


class RoleInfo(BaseModel):
    name: str
    kind: str
    scoped: bool = Field(description="true: the role applies to a unit that must be named")
    permissions: list[str]
