"""`make run` as a person uses it: started in a terminal, stopped with Ctrl-C.

Ctrl-C reaches every process of the terminal's group; the broker runs in a session of its own, so
the launcher stops the gateway and the services first and the broker last, and no service loses
its broker while it is still stopping.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack.config import SERVICES, StackConfig

pytestmark = pytest.mark.e2e
BROKER_LOST = ("Unable connect to node", "Connect call failed", "Unable to update metadata")


def test_ctrl_c_stops_every_service_before_the_broker(tmp_path: Path) -> None:
    config = StackConfig.on_free_ports(tmp_path / "var")
    env = {
        **os.environ,
        "CADRECARE_DATA_DIR": str(config.data_dir),
        "CADRECARE_DEMO": "0",
        "CADRECARE_GATEWAY_PORT": str(config.gateway_port),
        "CADRECARE_SERVICE_PORT_BASE": str(config.first_service_port),
        "CADRECARE_KAFKA_PORT": str(config.kafka_port),
    }
    output = tmp_path / "launcher.out"
    with output.open("wb") as sink:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run"], env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 120
            while "CadreCare is up" not in output.read_text() and launcher.poll() is None:
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.2)
            assert launcher.poll() is None, output.read_text()
            time.sleep(2)  # the services' consumers and relays are connected to the broker
            os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
            assert launcher.wait(60) == 0, output.read_text()
        finally:
            if launcher.poll() is None:
                os.killpg(launcher.pid, signal.SIGKILL)
    assert "Stopping every process" in output.read_text()
    for name in (*SERVICES, "gateway"):
        logged = (config.data_dir / "logs" / f"{name}.log").read_text(errors="replace")
        lost = [line for line in logged.splitlines() if any(sign in line for sign in BROKER_LOST)]
        assert lost == [], f"{name} lost its broker while stopping: {lost[:3]}"
