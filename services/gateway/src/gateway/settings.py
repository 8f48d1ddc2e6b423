from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings

SIX_YEARS_DAYS = 6 * 365 + 2  # two leap days in any six years


class OidcProvider(BaseModel):
    """An external identity provider (e.g. Keycloak): its tokens are verified against its JWKS.

    The token names a local user (by `username_claim`); that user's permissions and grants apply.
    """

    issuer: str
    jwks_url: str
    audience: str
    algorithms: list[str] = ["RS256", "ES256"]  # asymmetric only: never "none", never HMAC
    username_claim: str = "preferred_username"
    jwks_refresh_seconds: float = 30.0  # at most this often on an unknown key id (rotation)


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", env_nested_delimiter="__")

    service_name: str = "gateway"
    principals_file: Path = Field(default=Path(""), description="users and HIS clients; default data_dir/gateway/principals.json")
    issuer: str = "cadrecare-dev-issuer"
    audience: str = "cadrecare-api"
    access_token_seconds: int = 900
    refresh_token_seconds: int = 8 * 3600
    issuer_private_key_file: Path = Path("")
    internal_private_key_file: Path = Path("")
    internal_token_seconds: int = 60
    internal_token_cache_seconds: float = Field(default=20.0, description="re-use a signed internal token this long")
    oidc_providers: list[OidcProvider] = Field(default_factory=list)
    registry_url: str = "http://127.0.0.1:8001"
    scheduling_url: str = "http://127.0.0.1:8002"
    clinical_url: str = "http://127.0.0.1:8003"
    reporting_url: str = "http://127.0.0.1:8004"
    # longer than a service's own wait for SQLite's write lock (servicekit.db), so a request that waited there is
    # answered, not cut off with a 504; nginx's proxy_read_timeout is 60 s
    upstream_timeout_seconds: float = 25.0
    max_body_bytes: int = 5 * 1024 * 1024
    max_batch_items: int = 1000
    rate_per_second: float = Field(default=100.0, description="per principal, sustained")
    rate_burst: int = Field(default=1000, description="per principal, burst")
    token_rate_per_minute: float = Field(default=30.0, description="token endpoint, per client address")
    cors_origins: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:8000", "http://localhost:8000"])
    grants_cache_seconds: float = Field(
        default=2.0, ge=0, description="how long principals, grants, open accesses and revocations read are re-used (0: never)"
    )
    audit_retention_days: int = SIX_YEARS_DAYS
    audit_durability: Literal["journal", "commit"] = Field(
        default="journal",
        description="journal: answer once the record is in the local audit journal (chained right after); "
        "commit: answer once the record's database transaction has committed",
    )
    audit_journal_dir: Path = Field(default=Path(""), description="default data_dir/gateway/audit-journal")
    audit_journal_fsync: bool = Field(default=False, description="flush each journal record to disk (survives power loss)")
    password_min_length: int = Field(default=12, ge=8, description="passwords set through the API: at least this long")
    signin_max_failures: int = Field(default=5, ge=1, description="failed password sign-ins in a row that lock an account")
    signin_lockout_minutes: float = Field(default=15.0, gt=0, description="how long a locked account refuses every sign-in")
    break_glass_minutes: int = 60
    break_glass_max_minutes: int = 24 * 60

    @model_validator(mode="after")
    def _gateway_defaults(self) -> "GatewaySettings":
        keys = self.data_dir / "keys"
        if self.audit_journal_dir == Path(""):
            self.audit_journal_dir = self.data_dir / "gateway" / "audit-journal"
        if self.principals_file == Path(""):
            self.principals_file = self.data_dir / "gateway" / "principals.json"
        if self.issuer_private_key_file == Path(""):
            self.issuer_private_key_file = keys / "issuer-private.pem"
        if self.internal_private_key_file == Path(""):
            self.internal_private_key_file = keys / "internal-private.pem"
        if self.internal_public_key_file == Path("var/keys/internal-public.pem"):
            self.internal_public_key_file = self.internal_private_key_file.with_name("internal-public.pem")
        return self

    @property
    def upstreams(self) -> dict[str, str]:
        return {
            "registry": self.registry_url,
            "scheduling": self.scheduling_url,
            "clinical": self.clinical_url,
            "reporting": self.reporting_url,
        }
