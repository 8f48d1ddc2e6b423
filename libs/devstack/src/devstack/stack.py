"""Start and stop the whole platform as separate processes on localhost."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from devstack.config import SERVICES, StackConfig
from servicekit import migrations
from servicekit.embedded import TansuBroker
from servicekit.keys import ensure_keypair


class StackError(RuntimeError):
    pass


class Stack:
    def __init__(self, config: StackConfig | None = None, *, extra_env: dict[str, str] | None = None) -> None:
        self.config = config or StackConfig()
        self.extra_env = extra_env or {}
        self.broker = TansuBroker(port=self.config.kafka_port, log_file=self.logs_dir / "broker.log")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

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
        self._spawn(service, f"{service}.app:create_app", self.config.service_port(service), self.service_env(service))

    def start_gateway(self) -> None:
        self._spawn("gateway", "gateway.app:create_app", self.config.gateway_port, self.gateway_env())

    def start(self, timeout: float = 60.0) -> None:
        self.prepare()
        self.broker.start()
        for service in SERVICES:
            self.start_service(service)
        self.start_gateway()
        self.wait_ready(timeout)

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

    def stop(self) -> None:
        for name in ["gateway", *SERVICES]:
            self.stop_process(name)
        self.broker.stop()

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
