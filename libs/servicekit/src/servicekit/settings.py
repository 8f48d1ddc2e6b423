"""Settings shared by every service; each service subclasses with its own env prefix (REGISTRY_, ...)."""

from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.suppression import DEFAULT_MIN_CELL_SIZE


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
    kafka_create_topics: bool = Field(
        default=True,
        description="create missing topics; off where topics are declared (Strimzi KafkaTopic) and users may not create",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="SASL_SSL in production (TLS, and a SCRAM user per service); the embedded broker is plaintext",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: Path | None = Field(default=None, description="the CA that signed the brokers' certificates")
    consumer_group_prefix: str = Field(
        default="", description="set when running replicas: consumers then share partitions in groups <prefix><consumer>"
    )
    internal_public_key_file: Path = Path("var/keys/internal-public.pem")
    internal_audience: str = "cadrecare-internal"
    relay_poll_seconds: float | None = Field(
        default=None,
        gt=0,
        description="how often the outbox relay looks for rows no commit of its own process woke it for: by default"
        " 0.25 s on PostgreSQL (replicas write rows their leader's relay publishes) and 2 s on SQLite (one process"
        " writes; only a command-line tool's rows wait for the poll)",
    )
    outbox_retention_days: float = Field(
        default=7.0,
        gt=0,
        description="how long sent events stay in the outbox, to be sent again to a broker that lost them",
    )
    consumer_max_attempts: int = 3
    min_cell_size: int = Field(
        default=DEFAULT_MIN_CELL_SIZE,
        ge=1,
        description="figures shown to an aggregate-only caller resting on fewer cadres than this are suppressed",
    )
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _defaults_and_production_checks(self) -> "ServiceSettings":
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.db')}"
        if self.environment == "production":
            self._check_production_transport()
        return self

    def _check_production_transport(self) -> None:
        """Names, national ids and diagnoses travel on these connections: in production they are encrypted."""
        if self.database_url.startswith("sqlite"):
            raise ValueError("production needs a PostgreSQL database_url, not SQLite")
        ssl = parse_qs(urlsplit(self.database_url).query).get("ssl", [""])[0]
        if ssl not in ("require", "verify-ca", "verify-full"):
            raise ValueError("production needs TLS to PostgreSQL: add ?ssl=verify-full (or require) to database_url")
        if self.kafka_security_protocol != "SASL_SSL":
            raise ValueError("production needs kafka_security_protocol SASL_SSL (TLS and an authenticated user)")
        if not self.kafka_sasl_username or not self.kafka_sasl_password.get_secret_value():
            raise ValueError("production needs kafka_sasl_username and kafka_sasl_password")
