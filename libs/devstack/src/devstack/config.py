"""Ports and the data directory, changeable by environment (CADRECARE_*)."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from servicekit.embedded import free_port_run

SERVICES = ("registry", "scheduling", "clinical", "reporting")


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class StackConfig:
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("CADRECARE_DATA_DIR", "var")).resolve())
    host: str = field(default_factory=lambda: os.environ.get("CADRECARE_HOST", "127.0.0.1"))
    gateway_port: int = field(default_factory=lambda: _env_int("CADRECARE_GATEWAY_PORT", 8000))
    first_service_port: int = field(default_factory=lambda: _env_int("CADRECARE_SERVICE_PORT_BASE", 8001))
    kafka_port: int = field(default_factory=lambda: _env_int("CADRECARE_KAFKA_PORT", 19092))
    demo: bool = field(default_factory=lambda: os.environ.get("CADRECARE_DEMO", "1") != "0")

    @classmethod
    def on_free_ports(cls, data_dir: Path, *, demo: bool = False) -> "StackConfig":
        """A stack beside any other on this machine (tests, benchmarks): every port free, its own data.

        One run of free ports for all of them (services, then the gateway, then the broker): picked one by one,
        the gateway's or the broker's port could be one of the services', free when picked as none was bound
        yet. The process that bound it first left the other exiting with "address already in use" (seen in CI:
        reporting, started with the gateway)."""
        first = free_port_run(len(SERVICES) + 2)
        return cls(
            data_dir=data_dir,
            gateway_port=first + len(SERVICES),
            first_service_port=first,
            kafka_port=first + len(SERVICES) + 1,
            demo=demo,
        )

    def service_port(self, service: str) -> int:
        return self.first_service_port + SERVICES.index(service)

    def service_url(self, service: str) -> str:
        return f"http://{self.host}:{self.service_port(service)}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    def database_url(self, service: str) -> str:
        return f"sqlite+aiosqlite:///{self.data_dir / (service + '.db')}"
