"""FHIR Patient search by identifier (issue #12) on a throwaway PostgreSQL with the registry at national scale,
through the real registry app (in process, signed internal tokens), as bench_registry measures the JSON search.

Scale: BENCH_FHIR_PATIENTS (default 300000), loaded as bench_registry loads them. Goal (issue #12): Patient
search by identifier p95 <= 50 ms. Baseline in the same run: GET /cadres/{id} (the JSON API's primary-key read);
the ratios are against its p95 (the machine is shared: compare ratios between runs).
"""

import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench import bench_registry
from bench.bench_registry import p95
from bench.common import record_goal
from contracts.fhir import SID_BHYT, SID_CCCD, SID_HEALTH_CARD
from servicekit import migrations
from servicekit.embedded import PostgresCluster
from servicekit.keys import ensure_keypair

SAMPLES = 200
Call = Callable[[int], Awaitable[httpx.Response]]


async def interleaved(calls: dict[str, Call]) -> dict[str, list[float]]:
    """Each operation once per round, round after round: on a shared machine a burst of load then weighs on
    every operation alike, and the ratios to the baseline stay meaningful."""
    durations: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(SAMPLES):
        for name, call in calls.items():
            started = time.perf_counter()
            answer = await call(i)
            durations[name].append(time.perf_counter() - started)
            assert answer.status_code < 300, answer.text[:300]
    return durations


async def measure(url: str, keys: tuple[bytes, Path], data_dir: Path, cadres: list[dict[str, Any]]) -> None:
    app, as_admin, as_board = bench_registry.signed_app(url, keys, data_dir)
    rng = random.Random(12)
    sample = rng.sample(cadres, SAMPLES)
    carded = [c for c in cadres[:20000] if c["card_number"]]
    in_board = [c for c in cadres if c["managing_unit"] == "VN.01" and c["tier"].startswith("provincial")][:SAMPLES] or sample

    def search(who: dict[str, str], identifier: Callable[[int], str]) -> Call:
        return lambda i: http.get("/fhir/R4/Patient", headers=who, params={"identifier": identifier(i)})

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry", timeout=120) as http:
        await http.get("/fhir/R4/Patient", headers=as_admin, params={"_count": 1})  # warm-up
        calls: dict[str, Call] = {
            "baseline GET /cadres/{id}": lambda i: http.get(f"/cadres/{sample[i]['id']}", headers=as_admin),
            "GET /fhir/R4/Patient/{id}": lambda i: http.get(f"/fhir/R4/Patient/{sample[i]['id']}", headers=as_admin),
            "Patient?identifier=CCCD (nation)": search(as_admin, lambda i: f"{SID_CCCD}|{sample[i]['national_id']}"),
            "Patient?identifier=CCCD (a provincial board)": search(
                as_board, lambda i: f"{SID_CCCD}|{in_board[i % len(in_board)]['national_id']}"
            ),
            "Patient?identifier=health-care card (nation)": search(
                as_admin, lambda i: f"{SID_HEALTH_CARD}|{carded[i % len(carded)]['card_number']}"
            ),
            "Patient?identifier=BHYT, none held (nation)": search(
                as_admin, lambda i: f"{SID_BHYT}|HT3{sample[i]['national_id'][:2]}0{i:010d}"
            ),
            "Patient?identifier=<value>, any system (nation)": search(as_admin, lambda i: sample[i]["national_id"]),
        }
        results = await interleaved(calls)
    await app.state.runtime.db.dispose()
    base = p95(results["baseline GET /cadres/{id}"])
    print(f"{'operation':50} {'p50 ms':>8} {'p95 ms':>8} {'p95 / baseline p95':>20}")
    for name, durations in results.items():
        print(f"{name:50} {statistics.median(durations) * 1000:8.1f} {p95(durations):8.1f} {p95(durations) / base:20.1f}")
    for name, durations in results.items():
        if name.startswith("Patient?"):
            record_goal(
                "fhir_patient",
                f"{name} p95",
                "<= 50 ms",
                f"{p95(durations):.1f} ms (n={len(durations)})",
                met=p95(durations) <= 50,
                ratio=f"x{p95(durations) / base:.1f} of GET /cadres/{{id}}",
            )


def main() -> None:
    count = int(os.environ.get("BENCH_FHIR_PATIENTS", "300000"))
    bench_registry.CADRES = count  # bench_registry's loader reads its module setting
    cluster = PostgresCluster()
    try:
        cluster.start()  # inside: a start that fails half-way (initdb done, server up or not) is cleaned up too
        with tempfile.TemporaryDirectory(prefix="bench-fhir-patient-") as scratch:
            data_dir = Path(scratch)
            private, public = data_dir / "keys" / "private.pem", data_dir / "keys" / "public.pem"
            ensure_keypair(private, public)
            url = cluster.create_database("registry")
            migrations.upgrade("registry", url)
            cadres, seconds = asyncio.run(bench_registry.load(url))
            print(f"PostgreSQL {cluster.port}: loaded {len(cadres)} cadres in {seconds:.1f} s")
            asyncio.run(measure(url, (private.read_bytes(), public), data_dir, cadres))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
