from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    environment: str = "development"
    data_dir: Path = Path("var")
    principals_file: Path = Field(default=Path(""), description="users and HIS clients; default data_dir/gateway/principals.json")
    issuer: str = "cadrecare-dev-issuer"
    audience: str = "cadrecare-api"
    access_token_seconds: int = 900
    issuer_private_key_file: Path = Path("")
    internal_private_key_file: Path = Path("")
    internal_audience: str = "cadrecare-internal"
    internal_token_seconds: int = 60
    registry_url: str = "http://127.0.0.1:8001"
    scheduling_url: str = "http://127.0.0.1:8002"
    clinical_url: str = "http://127.0.0.1:8003"
    reporting_url: str = "http://127.0.0.1:8004"
    upstream_timeout_seconds: float = 10.0
    max_body_bytes: int = 5 * 1024 * 1024
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _defaults(self) -> "GatewaySettings":
        keys = self.data_dir / "keys"
        if self.principals_file == Path(""):
            self.principals_file = self.data_dir / "gateway" / "principals.json"
        if self.issuer_private_key_file == Path(""):
            self.issuer_private_key_file = keys / "issuer-private.pem"
        if self.internal_private_key_file == Path(""):
            self.internal_private_key_file = keys / "internal-private.pem"
        return self

    @property
    def upstreams(self) -> dict[str, str]:
        return {
            "registry": self.registry_url,
            "scheduling": self.scheduling_url,
            "clinical": self.clinical_url,
            "reporting": self.reporting_url,
        }
