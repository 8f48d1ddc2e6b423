"""Clinical's own CPU per single HIS record, in one process (no HTTP, no gateway, no broker): the app called
over ASGI by CLIENTS concurrent callers, with group commit (clinical.ingestion.group_commit) and with one
transaction per request (CLINICAL_GROUP_COMMIT=false), interleaved in ROUNDS on SQLite and on PostgreSQL.

The figure is `time.process_time()` of this process per record (the load's own share is the same in both
modes), so the ratio of the two modes is what this bench is for: it holds on a noisy shared machine.
"""

import asyncio
import os
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from bench.common import record_goal, stack_directory
from clinical.app import create_app
from clinical.projections import consumers
from clinical.settings import ClinicalSettings
from contracts import roles
from contracts.enums import CadreStatus, ManagementTier, Sex
from contracts.events.registry import CadreRegistered, CadreSnapshot
from servicekit import migrations
from servicekit.auth import InternalTokenSigner
from servicekit.embedded import PostgresCluster
from servicekit.keys import ensure_keypair
from servicekit.testing.events import EventFeed
from servicekit.testing.principals import principal_for

RECORDS = int(os.environ.get("BENCH_CLINICAL_SINGLE_RECORDS", "600"))  # per mode and round
ROUNDS = int(os.environ.get("BENCH_CLINICAL_SINGLE_ROUNDS", "2"))
CLIENTS = 32
CADRES = 50
HIS = principal_for(roles.his_client, "VN.68", subject="client:his-bvdk-lamdong", facility="68-BVDK")
B1 = {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "B1"}


def exam(national_id: str, external_id: str) -> dict[str, Any]:
    return {
        "kind": "periodic_exam",
        "external_id": external_id,
        "national_id": national_id,
        "occurred_on": "2026-03-01",
        "measurements": [{"code": "height", "value": 165, "unit": "cm"}, {"code": "weight", "value": 62.5, "unit": "kg"}],
        "diagnoses": [{"code": "I10", "primary": True}, {"code": "E78.5"}],
        "classification": B1,
        "conclusion": "Sức khỏe loại B1",
    }


async def seed(app: Any) -> list[str]:
    feed = EventFeed(consumers(app.state.runtime), source="cadrecare/registry")
    national_ids = []
    for n in range(CADRES):
        cadre_id = uuid.uuid4()
        snapshot = CadreSnapshot(
            id=cadre_id,
            full_name="Nguyễn Văn Đo",
            date_of_birth=date(1958, 1, 1),
            sex=Sex.MALE,
            national_id=f"068058{n:06d}",
            tier=ManagementTier.PROVINCIAL_2,
            status=CadreStatus.RETIRED,
            status_since=date(2018, 1, 1),
            managing_unit="VN.68",
            card_number=None,
        )
        await feed.send(CadreRegistered(cadre=snapshot), subject=str(cadre_id))
        national_ids.append(snapshot.national_id)
    return national_ids


async def post_all(app: Any, headers: dict[str, str], national_ids: list[str], prefix: str) -> tuple[float, float]:
    """(CPU ms per record, records/s) for RECORDS single POSTs from CLIENTS concurrent callers."""
    counter = iter(range(RECORDS))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clinical") as http:

        async def caller() -> None:
            for n in counter:
                body = exam(national_ids[n % CADRES], f"{prefix}-{n:06d}")
                answer = await http.post("/his/records", json=body, headers=headers)
                assert answer.status_code == 201, answer.text

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CLIENTS)))
        return (time.process_time() - cpu) * 1000 / RECORDS, RECORDS / (time.perf_counter() - wall)


async def compare(url: str, directory: Path, label: str) -> None:
    migrations.upgrade("clinical", url)
    ensure_keypair(directory / "private.pem", directory / "public.pem")
    signer = InternalTokenSigner((directory / "private.pem").read_bytes(), ttl_seconds=3600)
    headers = {"authorization": f"Bearer {signer.sign(HIS)}"}
    apps = {
        grouped: create_app(
            ClinicalSettings(
                database_url=url,
                data_dir=directory,
                internal_public_key_file=directory / "public.pem",
                group_commit=grouped,
                log_level="WARNING",  # an access line per request would be most of what is measured
            ),
            run_workers=False,
        )
        for grouped in (True, False)
    }
    national_ids = await seed(apps[True])
    figures: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    try:
        await post_all(apps[True], headers, national_ids, f"{label}-warm")
        for round_ in range(ROUNDS):
            for grouped, app in apps.items():
                figures[grouped].append(await post_all(app, headers, national_ids, f"{label}-{round_}-{grouped}"))
    finally:
        for app in apps.values():
            await app.state.runtime.db.dispose()
    cpu = {grouped: sum(c for c, _ in runs) / len(runs) for grouped, runs in figures.items()}
    rate = {grouped: sum(r for _, r in runs) / len(runs) for grouped, runs in figures.items()}
    print(
        f"  [{label}] group commit: {cpu[True]:.2f} ms CPU per record, {rate[True]:.0f}/s; one transaction per request:"
        f" {cpu[False]:.2f} ms, {rate[False]:.0f}/s ({CLIENTS} callers, {RECORDS} records x {ROUNDS} rounds each)"
    )
    record_goal(
        "clinical_single",
        f"clinical CPU per single record, in process ({label})",
        "less than one transaction per request",
        f"{cpu[True]:.2f} ms (per request: {cpu[False]:.2f} ms)",
        met=cpu[True] < cpu[False],
        ratio=f"{cpu[True] / cpu[False]:.2f} of per-request",
    )


def main() -> None:
    with stack_directory("bench-clinical-single-") as directory:
        asyncio.run(compare(f"sqlite+aiosqlite:///{directory / 'clinical.db'}", directory, "SQLite"))
        cluster = PostgresCluster().start()
        try:
            asyncio.run(compare(cluster.url(), directory, "PostgreSQL"))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
