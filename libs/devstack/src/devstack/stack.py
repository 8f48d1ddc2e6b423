"""Start and stop the whole platform as separate processes on localhost; restart what crashes."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import httpx

from devstack.config import SERVICES, StackConfig
from servicekit import migrations
from servicekit.embedded import TansuBroker
from servicekit.keys import ensure_keypair


class StackError(RuntimeError):
    pass


RESTART_LIMIT = 5  # crashes of one process within RESTART_WINDOW_SECONDS before the platform gives up
RESTART_WINDOW_SECONDS = 300.0


class Stack:
    def __init__(self, config: StackConfig | None = None, *, extra_env: dict[str, str] | None = None) -> None:
        self.config = config or StackConfig()
        self.extra_env = extra_env or {}
        self.broker = TansuBroker(port=self.config.kafka_port, log_file=self.logs_dir / "broker.log")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._starters: dict[str, Callable[[], None]] = {}
        self._crashes: dict[str, deque[float]] = {}

    @property
    def logs_dir(self) -> Path:
        return self.config.data_dir / "logs"

    def prepare(self) -> None:
        """Data directory, keys, and every service's (and the gateway's) migrations applied to its own SQLite file."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        keys = self.config.keys_dir
        ensure_keypair(keys / "internal-private.pem", keys / "internal-public.pem")
        for service in (*SERVICES, "gateway"):
            migrations.upgrade(service, self.config.database_url(service))

    def service_env(self, service: str) -> dict[str, str]:
        prefix = service.upper()
        return {
            f"{prefix}_DATA_DIR": str(self.config.data_dir),
            f"{prefix}_DATABASE_URL": self.config.database_url(service),
            f"{prefix}_KAFKA_BOOTSTRAP": self.config.kafka_bootstrap,
            f"{prefix}_INTERNAL_PUBLIC_KEY_FILE": str(self.config.keys_dir / "internal-public.pem"),
        }

    def gateway_env(self) -> dict[str, str]:
        env = {
            "GATEWAY_DATA_DIR": str(self.config.data_dir),
            "GATEWAY_DATABASE_URL": self.config.database_url("gateway"),
            "GATEWAY_KAFKA_BOOTSTRAP": self.config.kafka_bootstrap,
            "GATEWAY_CORS_ORIGINS": json.dumps([self.config.gateway_url]),
        }
        for service in SERVICES:
            env[f"GATEWAY_{service.upper()}_URL"] = self.config.service_url(service)
        return env

    def _spawn(self, name: str, app: str, port: int, env: dict[str, str]) -> None:
        log = open(self.logs_dir / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's lifetime
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            app,
            "--host",
            self.config.host,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "5",
            # longer than any client's pooled idle connection, so a reused connection is never
            # closed under a request in flight (the gateway's pool, load generators)
            "--timeout-keep-alive",
            "75",
        ]
        self.processes[name] = subprocess.Popen(
            command, env={**os.environ, **env, **self.extra_env}, stdout=log, stderr=log, start_new_session=True
        )

    def start_service(self, service: str) -> None:
        self._starters[service] = lambda: self._spawn(
            service, f"{service}.app:create_app", self.config.service_port(service), self.service_env(service)
        )
        self._starters[service]()

    def start_gateway(self) -> None:
        self._starters["gateway"] = lambda: self._spawn(
            "gateway", "gateway.app:create_app", self.config.gateway_port, self.gateway_env()
        )
        self._starters["gateway"]()

    def start(self, timeout: float = 60.0) -> None:
        """Every process, then wait for the gateway's /readyz. A start that fails stops what it had started: a
        caller that never got a stack to stop (a fixture whose start raised) leaves nothing running."""
        try:
            self.prepare()
            self.broker.start()
            for service in SERVICES:
                self.start_service(service)
            self.start_gateway()
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                self.check_alive()
                try:
                    answer = client.get(f"{self.config.gateway_url}/readyz")
                    if answer.status_code == 200:
                        return
                    last = answer.text
                except httpx.HTTPError as exc:
                    last = str(exc)
                time.sleep(0.2)
        raise StackError(f"the platform was not ready after {timeout}s: {last}")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}; see {self.logs_dir / (name + '.log')}")

    def supervise(self, report: Callable[[str], None] = print) -> None:
        """Restart a crashed service, the gateway or the broker (a crash loop stops the platform).

        A restarted broker is a new, empty one: the services notice its new cluster id, send their
        retained events again and read from the beginning, skipping what they already applied.
        """
        if self.broker.process is not None and self.broker.process.poll() is not None:
            self._count_crash("broker", self.broker.process.returncode, report)
            self.broker.start()
        for name, process in list(self.processes.items()):
            if process.poll() is None or name not in self._starters:
                continue
            self._count_crash(name, process.returncode, report)
            self._starters[name]()

    def _count_crash(self, name: str, code: int | None, report: Callable[[str], None]) -> None:
        crashes = self._crashes.setdefault(name, deque())
        now = time.monotonic()
        crashes.append(now)
        while crashes and now - crashes[0] > RESTART_WINDOW_SECONDS:
            crashes.popleft()
        where = self.logs_dir / f"{name}.log"
        if len(crashes) > RESTART_LIMIT:
            raise StackError(f"{name} crashed {len(crashes)} times in {RESTART_WINDOW_SECONDS:.0f}s; see {where}")
        report(f"{name} exited with {code}; restarting it ({len(crashes)} of {RESTART_LIMIT} allowed; see {where})")

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self, timeout: float = 10.0) -> None:
        """The gateway and the services together, then the broker last (so none of them loses it while stopping)."""
        running = {name: self.processes.pop(name) for name in ["gateway", *SERVICES] if name in self.processes}
        for process in running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in running.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.broker.stop()

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
