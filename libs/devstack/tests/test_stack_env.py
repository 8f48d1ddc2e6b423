"""The environment the embedded stack gives each service process: its own database, the broker, the key."""

from pathlib import Path

from devstack.config import SERVICES, StackConfig
from devstack.stack import Stack


def test_each_service_gets_its_own_database_and_nothing_of_another_service(tmp_path: Path) -> None:
    stack = Stack(StackConfig.on_free_ports(tmp_path))
    envs = {service: stack.service_env(service) for service in SERVICES}
    for service, env in envs.items():
        prefix = service.upper()
        assert env[f"{prefix}_DATABASE_URL"].endswith(f"/{service}.db")
        assert env[f"{prefix}_KAFKA_BOOTSTRAP"] == stack.config.kafka_bootstrap
        assert all(name.startswith(f"{prefix}_") for name in env)  # no setting leaks into another service's
