"""The CPU each process of a running stack spends over a measurement, read from /proc (Linux): where the
time goes when the stack and the load generator share two cores."""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (and its reaped children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
            except (OSError, ValueError):
                continue
    return found


@dataclass
class CpuMeter:
    """CPU seconds spent by each process of the stack (and by this load generator) over a measurement;
    `postgres`, when given, is the cluster's postmaster: its backends count under "postgres"."""

    pids: dict[str, int]
    postgres: int | None = None
    started: dict[int, float] = field(default_factory=dict)

    def processes(self) -> dict[int, str]:
        named = {pid: name for name, pid in {**self.pids, "load generator": os.getpid()}.items()}
        if self.postgres is not None:
            named |= {pid: "postgres" for pid in [self.postgres, *children_of(self.postgres)]}
        return named

    def start(self) -> None:
        self.started = {pid: cpu_seconds(pid) for pid in self.processes()}

    def spent(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for pid, name in self.processes().items():
            try:
                used = cpu_seconds(pid) - self.started.get(pid, 0.0)  # a backend started meanwhile: all of it
            except OSError:
                continue
            totals[name] = totals.get(name, 0.0) + used
        return totals


def idle_cpu(meter: CpuMeter, seconds: float) -> dict[str, float]:
    """CPU seconds per second each process spends with no request at all (polling relays and consumers)."""
    meter.start()
    time.sleep(seconds)
    return {name: spent / seconds for name, spent in meter.spent().items()}


def stack_cpu_ms(figures: dict[str, Any], idle: dict[str, float] | None = None) -> float:
    """The stack's CPU per accepted request (load generator excluded), less its idle spending if given."""
    spent: float = sum(s for name, s in figures["cpu"].items() if name != "load generator")
    if idle is not None:
        spent -= sum(rate for name, rate in idle.items() if name != "load generator") * figures["seconds"]
    return float(max(spent, 0.0) / max(int(figures["requests"]) - int(figures["errors"]), 1) * 1000)
