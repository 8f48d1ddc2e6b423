"""Gateway overhead: the same registry process called directly, through the gateway, through nginx
(Debian package, `scripts/system-deps.sh`; started here with its own temporary configuration on a free
port, stopped after) and through a bare Python proxy (`bench.bare_proxy`: uvicorn and the gateway's upstream
pool, nothing else), in one run, at the same concurrency.

Two requests: `GET /units?under=VN.68` (authentication, grants, policy, internal token, proxy) and
`GET /cadres/{id}` (the same plus an audit record, journaled before the answer and hash-chained right
after; `BENCH_AUDIT=commit` measures the mode that waits for the database commit instead).
The targets are measured in interleaved rounds (direct, gateway, nginx, bare proxy, direct, ...; ten short rounds
by default) so that the load of a shared machine falls on all of them alike. Figures: p50 / p95 latency,
throughput, CPU time per request of the proxying process (gateway, nginx or the bare proxy, from /proc;
robust to a noisy machine), and against the goals of issue #14, item 3: the gateway's CPU per forwarded
request <= 0.5 ms; p50 added latency at concurrency 1 <= 1.5 ms plain and <= 3 ms audited (the p50 through
the gateway less the p50 of the service called directly, over every round; the median of the rounds' own
differences is printed beside it); throughput >= 0.8 of nginx's at the same concurrency. The bare proxy's CPU
per request is the floor of proxying in Python on this machine: the gateway's figure is also given as a
multiple of it. The gateway's CPU with no request at all (its background workers) is measured first and
shown beside the per-request figure.

The gateway is called by BENCH_GATEWAY_USERS signed-in users (100 by default), their tokens taken in turn:
what it reads per caller (principal, grants, open accesses, revocation) is then paid as it is in service,
not once for a single token.
"""

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpcore
import httpx
from argon2 import PasswordHasher

from bench.common import record_goal
from contracts import roles
from contracts.scope import Principal, PrincipalKind
from devstack.demo import demo_units
from gateway.identity import PrincipalsFile, UserRecord, write_principals
from servicekit import migrations
from servicekit.auth import InternalTokenSigner
from servicekit.embedded import free_port, wait_for_port
from servicekit.keys import ensure_keypair

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))  # per target and concurrency, over all rounds
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
MIN_SAMPLES = 50  # a percentile from fewer is not reported as a goal's figure
AUDIT_MODE = os.environ.get("BENCH_AUDIT", "journal")
GATEWAY_LOG_LEVEL = os.environ.get("BENCH_GATEWAY_LOG_LEVEL", "INFO")
WARMUP_SECONDS = 0.2  # per round: a new connection pool each time
GOAL_ADDED_MS = {"plain": 1.5, "audited": 3.0}
GOAL_THROUGHPUT_RATIO = 0.8
GOAL_CPU_MS = 0.5
IDLE_SECONDS = 2.0
USERS = max(1, int(os.environ.get("BENCH_GATEWAY_USERS", "100")))
IDLE_CPU_PER_SECOND = 0.0  # measured before the loads


@dataclass
class Figures:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    cpu_seconds: float | None = None  # of the proxying process, while measured
    round_p50s: list[float] | None = None  # each interleaved round's own p50

    def merged(self, other: "Figures") -> "Figures":
        cpu = None if self.cpu_seconds is None or other.cpu_seconds is None else self.cpu_seconds + other.cpu_seconds
        return Figures(
            self.name,
            self.requests + other.requests,
            self.errors + other.errors,
            self.seconds + other.seconds,
            self.latencies_ms + other.latencies_ms,
            cpu,
            (self.round_p50s or [self.p50]) + (other.round_p50s or [other.p50]),
        )

    @property
    def cpu_ms_per_request(self) -> float | None:
        return None if self.cpu_seconds is None or not self.requests else self.cpu_seconds * 1000 / self.requests

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.latencies_ms, n=20)[18]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        cpu = self.cpu_ms_per_request
        return (
            f"  {self.name:<24} p50 {self.p50:6.2f} ms  p95 {self.p95:6.2f} ms  {self.throughput:6.0f} req/s  "
            + (f"proxy CPU {cpu:5.2f} ms/req  " if cpu is not None else " " * 26)
            + f"({self.requests} requests, {self.errors} errors)"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (nginx's worker), from /proc."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


async def load(
    name: str, url: str, callers: list[dict[str, str]], concurrency: int, seconds: float, proxy_pid: int | None = None
) -> Figures:
    """`concurrency` clients in a loop for `seconds` after a short warm-up, the callers' headers taken in turn; a
    plain httpcore pool (lighter than httpx, so that the load generator, on the same machine, takes less of the
    CPU the servers need)."""
    latencies: list[float] = []
    errors = 0
    turns = itertools.cycle([[(k.encode(), v.encode()) for k, v in headers.items()] for headers in callers])
    async with httpcore.AsyncConnectionPool(max_connections=concurrency, keepalive_expiry=60) as pool:
        deadline = time.perf_counter() + WARMUP_SECONDS
        recording = False

        async def worker() -> None:
            nonlocal errors
            while True:
                started = time.perf_counter()
                if started >= deadline:
                    return
                answer = await pool.request("GET", url, headers=next(turns))
                if recording:
                    if answer.status == 200:
                        latencies.append((time.perf_counter() - started) * 1000)
                    else:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))  # warm-up: connections, caches
        recording = True
        cpu_before = cpu_seconds(proxy_pid) if proxy_pid else None
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(proxy_pid) - cpu_before if proxy_pid and cpu_before is not None else None
    return Figures(name, len(latencies), errors, elapsed, latencies, cpu)


def spawn(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    out = open(log, "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=out, start_new_session=True)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def start_nginx(binary: str, directory: Path, port: int, upstream_port: int) -> subprocess.Popen[bytes]:
    config = directory / "nginx.conf"
    config.write_text(
        f"""
worker_processes 1; daemon off;
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {directory}/body; proxy_temp_path {directory}/proxy; fastcgi_temp_path {directory}/fastcgi;
  uwsgi_temp_path {directory}/uwsgi; scgi_temp_path {directory}/scgi;
  upstream registry {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location /api/v1/registry/ {{ proxy_pass http://registry/; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
"""
    )
    process = subprocess.Popen([binary, "-c", str(config), "-e", str(directory / "nginx-error.log")], start_new_session=True)
    wait_for_port(port)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def prepare(directory: Path) -> tuple[str, str]:
    """Keys, the two migrated databases and the gateway's one user; returns the databases' URLs."""
    keys = directory / "keys"
    ensure_keypair(keys / "internal-private.pem", keys / "internal-public.pem")
    registry_db = f"sqlite+aiosqlite:///{directory / 'registry.db'}"
    gateway_db = f"sqlite+aiosqlite:///{directory / 'gateway.db'}"
    migrations.upgrade("registry", registry_db)
    migrations.upgrade("gateway", gateway_db)
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("bench")
    users = [
        UserRecord(
            username=username,
            password_hash=password_hash,
            kind=PrincipalKind.ADMIN,
            grants=list(roles.administrator()),
            permissions=sorted(roles.ADMIN_PERMISSIONS),
        )
        for username in usernames()
    ]
    write_principals(directory / "gateway" / "principals.json", PrincipalsFile(users=users))
    return registry_db, gateway_db


def usernames() -> list[str]:
    return ["admin", *(f"staff{number}" for number in range(1, USERS))]


def start_services(directory: Path, registry_port: int, gateway_port: int) -> list[subprocess.Popen[bytes]]:
    registry_db, gateway_db = prepare(directory)
    registry_env = {
        "REGISTRY_DATABASE_URL": registry_db,
        "REGISTRY_DATA_DIR": str(directory),
        "REGISTRY_INTERNAL_PUBLIC_KEY_FILE": str(directory / "keys" / "internal-public.pem"),
        "REGISTRY_KAFKA_BOOTSTRAP": "127.0.0.1:1",  # no broker: the relay retries in the background
        "REGISTRY_LOG_LEVEL": "ERROR",
    }
    gateway_env = {
        "GATEWAY_DATA_DIR": str(directory),
        "GATEWAY_DATABASE_URL": gateway_db,
        "GATEWAY_REGISTRY_URL": f"http://127.0.0.1:{registry_port}",
        "GATEWAY_KAFKA_BOOTSTRAP": "127.0.0.1:1",
        "GATEWAY_RATE_PER_SECOND": "0",
        "GATEWAY_TOKEN_RATE_PER_MINUTE": "0",  # every user signs in from this one address
        "GATEWAY_AUDIT_DURABILITY": AUDIT_MODE,
        "GATEWAY_LOG_LEVEL": GATEWAY_LOG_LEVEL,  # INFO as deployed: its access log line is part of each request's cost
    }
    return [
        spawn("registry.app:create_app", registry_port, registry_env, directory / "registry.log"),
        spawn("gateway.app:create_app", gateway_port, gateway_env, directory / "gateway.log"),
    ]


async def seed(registry: str, gateway: str, direct_headers: dict[str, str]) -> tuple[str, list[str]]:
    """The units and one cadre, straight into the registry; returns the cadre's id and every user's gateway token."""
    async with httpx.AsyncClient(timeout=30) as http:
        (await http.post(f"{registry}/units/import", json=demo_units(), headers=direct_headers)).raise_for_status()
        cadre = {"full_name": "Nguyễn Văn Đo", "date_of_birth": "1960-01-15", "sex": "male", "national_id": "068060123456"}
        cadre |= {"tier": "provincial_2", "managing_unit": "VN.68", "status": "retired"}
        created = await http.post(f"{registry}/cadres", json=cadre, headers=direct_headers)
        created.raise_for_status()
        tokens = []
        for username in usernames():
            sign_in = {"grant_type": "password", "username": username, "password": "bench"}
            signed_in = await http.post(f"{gateway}/api/v1/auth/token", data=sign_in)
            signed_in.raise_for_status()
            tokens.append(str(signed_in.json()["access_token"]))
    return str(created.json()["id"]), tokens


Target = tuple[str, str, list[dict[str, str]], int | None]  # name, URL, each caller's headers, proxying process
NGINX, BARE = "through nginx", "through a bare proxy"


async def compare(label: str, kind: str, urls: list[Target], concurrency: int, baseline_name: str) -> list[str]:
    """The targets in interleaved rounds; prints their figures, records the goals, returns the verdicts."""
    merged: list[Figures | None] = [None] * len(urls)
    for _ in range(ROUNDS):
        for index, (name, url, headers, pid) in enumerate(urls):
            figures = await load(name, url, headers, concurrency, SECONDS / ROUNDS, pid)
            previous = merged[index]
            merged[index] = figures if previous is None else previous.merged(figures)
    rows = [row for row in merged if row is not None]
    by_name = {row.name: row for row in rows}
    with_nginx = NGINX in by_name
    direct, through, baseline = rows[0], rows[1], by_name.get(NGINX, rows[0])
    print(f"\n{label}, concurrency {concurrency}")
    for row in rows:
        print(row.line())
    added, ratio = through.p50 - direct.p50, through.throughput / baseline.throughput
    per_round = statistics.median(g - d for g, d in zip(through.round_p50s or [], direct.round_p50s or [], strict=True))
    print(
        f"  p50 added by the gateway: {added:+.2f} ms (median of the {ROUNDS} rounds' differences {per_round:+.2f} ms)"
        + (f" (by nginx: {baseline.p50 - direct.p50:+.2f} ms)" if with_nginx else "")
    )
    few = [row.name for row in rows if len(row.latencies_ms) < MIN_SAMPLES]
    if few:
        print(f"  fewer than {MIN_SAMPLES} samples for {few}: no goal recorded from this comparison")
        return [f"  {label}, concurrency {concurrency}: too few samples"]
    print(f"  throughput, gateway / {baseline_name}: {ratio:.2f}")
    verdicts = []
    if concurrency == 1:
        goal = GOAL_ADDED_MS[kind]
        met = added <= goal
        verdicts.append(f"  {label}: p50 added {added:+.2f} ms at c=1 (goal <= {goal} ms: {'met' if met else 'NOT met'})")
        nginx_added = f"nginx adds {baseline.p50 - direct.p50:+.2f} ms; " if with_nginx else ""
        measure = f"p50 added, {kind} ({label}, c=1)"
        ratio_text = f"{nginx_added}rounds' median {per_round:+.2f} ms"
        record_goal("gateway", measure, f"<= +{goal} ms", f"{added:+.2f} ms", met=met, ratio=ratio_text)
        return verdicts
    met = ratio >= GOAL_THROUGHPUT_RATIO
    verdicts.append(
        f"  {label}: throughput {ratio:.2f} of {baseline_name}'s at concurrency {concurrency} "
        f"(goal >= {GOAL_THROUGHPUT_RATIO:.2f}: {'met' if met else 'NOT met'})"
    )
    record_goal(
        "gateway",
        f"throughput vs {baseline_name}, {kind} (c={concurrency})",
        f">= {GOAL_THROUGHPUT_RATIO} of {baseline_name}",
        f"{through.throughput:.0f} req/s",
        met=met,
        ratio=f"{ratio:.2f}",
    )
    cpu = through.cpu_ms_per_request
    if cpu is not None:
        nginx_cpu = baseline.cpu_ms_per_request if with_nginx else None
        idle_ms = IDLE_CPU_PER_SECOND * through.seconds * 1000 / max(through.requests, 1)
        versus = f"{cpu / nginx_cpu:.1f}x nginx's {nginx_cpu:.3f} ms; " if nginx_cpu else ""
        bare_cpu = by_name[BARE].cpu_ms_per_request if BARE in by_name else None
        versus += f"{cpu / bare_cpu:.1f}x the bare Python proxy's {bare_cpu:.3f} ms; " if bare_cpu else ""
        record_goal(
            "gateway",
            f"CPU per forwarded request, {kind} (c={concurrency})",
            f"<= {GOAL_CPU_MS} ms",
            f"{cpu:.2f} ms",
            met=cpu <= GOAL_CPU_MS,
            ratio=f"{versus}{idle_ms:.2f} ms of it idle work",
        )
    return verdicts


async def measure(directory: Path) -> None:
    registry_port, gateway_port, nginx_port, bare_port = free_port(), free_port(), free_port(), free_port()
    processes = start_services(directory, registry_port, gateway_port)
    nginx = nginx_binary()
    try:
        bare_env = {"BARE_PROXY_UPSTREAM": f"http://127.0.0.1:{registry_port}"}
        bare_proxy = spawn("bench.bare_proxy:create_app", bare_port, bare_env, directory / "bare-proxy.log")
        processes.append(bare_proxy)
        wait_for_port(registry_port, 30)
        wait_for_port(gateway_port, 30)
        wait_for_port(bare_port, 30)
        if nginx:
            processes.append(start_nginx(nginx, directory, nginx_port, registry_port))
        admin = Principal(
            subject="user:admin", kind=PrincipalKind.ADMIN, grants=roles.administrator(), permissions=roles.ADMIN_PERMISSIONS
        )
        private = (directory / "keys" / "internal-private.pem").read_bytes()
        direct_headers = {"authorization": f"Bearer {InternalTokenSigner(private, ttl_seconds=3600).sign(admin)}"}
        registry = f"http://127.0.0.1:{registry_port}"
        gateway = f"http://127.0.0.1:{gateway_port}"
        cadre_id, tokens = await seed(registry, gateway, direct_headers)
        gateway_callers = [{"authorization": f"Bearer {token}"} for token in tokens]
        print(
            f"{SECONDS:.0f} s per target and concurrency in {ROUNDS} interleaved rounds; one uvicorn worker each, "
            f"nginx 1 worker; audit mode {AUDIT_MODE}; {USERS} users signed in; gateway logs at {GATEWAY_LOG_LEVEL}; "
            f"{os.cpu_count()} CPUs, shared"
        )
        if not nginx:
            print("nginx is NOT installed: the baseline is the service called directly (scripts/system-deps.sh installs it)")
        baseline_name = "nginx" if nginx else "direct"
        gateway_pid = processes[1].pid
        nginx_pid = processes[3].pid if nginx else None
        global IDLE_CPU_PER_SECOND
        idle_started = cpu_seconds(gateway_pid)
        await asyncio.sleep(IDLE_SECONDS)
        IDLE_CPU_PER_SECOND = (cpu_seconds(gateway_pid) - idle_started) / IDLE_SECONDS
        print(f"gateway's CPU with no request (background workers): {IDLE_CPU_PER_SECOND * 1000:.1f} ms per second")
        targets = (
            ("GET /units?under=VN.68", "plain", "units?under=VN.68"),
            ("GET /cadres/{id} (audited)", "audited", f"cadres/{cadre_id}"),
        )
        verdicts: list[str] = []
        for label, kind, path in targets:
            for concurrency in (1, CONCURRENCY):
                urls: list[Target] = [
                    ("direct to the service", f"{registry}/{path}", [direct_headers], None),
                    ("through the gateway", f"{gateway}/api/v1/registry/{path}", gateway_callers, gateway_pid),
                ]
                if nginx:
                    urls.append((NGINX, f"http://127.0.0.1:{nginx_port}/api/v1/registry/{path}", [direct_headers], nginx_pid))
                bare_url = f"http://127.0.0.1:{bare_port}/api/v1/registry/{path}"
                urls.append((BARE, bare_url, [direct_headers], bare_proxy.pid))
                verdicts += await compare(label, kind, urls, concurrency, baseline_name)
        print("\nAgainst the goals:")
        print("\n".join(verdicts))
    finally:
        for process in reversed(processes):
            stop(process)


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="cadrecare-bench-gateway-"))
    try:
        asyncio.run(measure(directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
