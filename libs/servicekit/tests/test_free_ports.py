"""Listening ports for embedded parts: below the ephemeral range, and never the same for two pytest-xdist workers."""

import pytest

from servicekit.embedded import LISTENING_PORTS_FROM, _ephemeral_range, free_port_run


def test_two_xdist_workers_draw_from_disjoint_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    drawn: dict[str, set[int]] = {}
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        drawn[worker] = {free_port_run(5) for _ in range(40)}
    middle = (LISTENING_PORTS_FROM + _ephemeral_range()[0]) // 2
    assert all(port < middle for port in drawn["gw0"]) and all(port >= middle - 5 for port in drawn["gw1"])
    assert max(drawn["gw1"]) + 5 <= _ephemeral_range()[0]
