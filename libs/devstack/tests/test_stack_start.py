"""A stack whose start fails leaves nothing running: the broker and every process it had spawned are stopped
before the error reaches the caller (a test fixture whose start raised has no stack to stop)."""

import subprocess
from pathlib import Path

import pytest

from devstack import demo
from devstack.config import StackConfig
from devstack.stack import Stack, StackError


class NeverReady(Stack):
    """Spawns everything for real, then fails the readiness wait at once (as a start on a starved machine does
    after its timeout), having noted what was running."""

    spawned: list[subprocess.Popen[bytes]]

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.broker.process is not None
        self.spawned = [*self.processes.values(), self.broker.process]
        raise StackError(f"the platform was not ready after {timeout}s")


def test_a_start_that_fails_stops_every_process_it_started(tmp_path: Path) -> None:
    config = StackConfig.on_free_ports(tmp_path)
    demo.ensure_demo_principals(config.data_dir / "gateway" / "principals.json")
    stack = NeverReady(config)
    with pytest.raises(StackError, match="not ready"):
        stack.start(timeout=1)
    assert len(stack.spawned) == 6  # four services, the gateway, the broker
    assert [p.poll() is not None for p in stack.spawned] == [True] * 6
    assert stack.processes == {}
