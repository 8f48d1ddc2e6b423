"""Settings shared by every service; each service subclasses with its own env prefix (REGISTRY_, ...)."""

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    service_name: str = "service"
    environment: str = Field(default="development", description="development | test | production")
    data_dir: Path = Path("var")
    database_url: str = Field(default="", description="SQLAlchemy async URL; default: SQLite file in data_dir")
    database_echo: bool = False
    sqlite_one_writer: bool = Field(
        default=False, description="on SQLite, queue this process's writers on a lock instead of SQLite's busy wait"
    )
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_idempotence: bool = Field(
        default=False, description="on for Apache Kafka; the embedded Tansu broker cannot do InitProducerId"
    )
    kafka_partitions: int = 3
    consumer_group_prefix: str = Field(
        default="", description="set when running replicas: consumers then share partitions in groups <prefix><consumer>"
    )
    internal_public_key_file: Path = Path("var/keys/internal-public.pem")
    internal_audience: str = "cadrecare-internal"
    relay_poll_seconds: float = 0.25
    outbox_retention_days: float = Field(
        default=7.0,
        gt=0,
        description="how long sent events stay in the outbox, to be sent again to a broker that lost them",
    )
    consumer_max_attempts: int = 3
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _defaults_and_production_checks(self) -> "ServiceSettings":
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.db')}"
        if self.environment == "production" and self.database_url.startswith("sqlite"):
            raise ValueError("production needs a PostgreSQL database_url, not SQLite")
        return self
