"""A stack's ports never coincide: the gateway's and the broker's are taken from the same run of free ports as the
services', not picked on their own (each free when picked, as none was bound yet)."""

from pathlib import Path

import pytest

from devstack.config import SERVICES, StackConfig
from servicekit import embedded


def test_the_gateway_broker_and_services_get_distinct_ports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded.random, "randrange", lambda bottom, _top: bottom)  # every pick lands on the same spot
    config = StackConfig.on_free_ports(tmp_path)
    ports = [config.gateway_port, config.kafka_port, *(config.service_port(s) for s in SERVICES)]
    assert len(set(ports)) == len(ports) == len(SERVICES) + 2
