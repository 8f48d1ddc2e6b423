"""FHIR R4 transaction Bundles (issue #12) through the gateway, and the JSON bulk path with the same records in
the same run, on SQLite (the embedded default).

BENCH_FHIR_BUNDLES transactions (default 20) of 100 entries each: 25 outpatient encounters, each with two
vital-sign Observations and one Condition (`urn:uuid:` references, so each encounter is one record of the
core), posted from 2 concurrent clients to `POST /fhir/R4`; then the same 25 records per request as JSON
bulks (`POST /api/v1/clinical/his/records/bulk`). Figures: resources/s (entries of the Bundles), records/s of
both paths, the ratio, and the CPU seconds each process spent per resource (read from /proc).
Goal (issue #12): >= 1,000 resources/s through the gateway.
"""

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.bench_clinical import HIS_CLIENT, CpuMeter, login, register_cadres, wait_until_clinical_knows
from bench.common import CAPACITY_ENV, record_goal, stack_directory
from contracts.fhir import CS_ACT_CODE, CS_ICD10, CS_OBSERVATION_CATEGORY, CS_OBSERVATION_CODE, FHIR_JSON, SID_CCCD, record_system
from devstack import demo
from devstack.config import StackConfig
from devstack.stack import Stack

BUNDLES = int(os.environ.get("BENCH_FHIR_BUNDLES", "20"))
ENCOUNTERS = 25  # x 4 resources = 100 entries per Bundle
CLIENTS = 2
FACILITY = "68-BVDK"  # the demo HIS client's
SYSTEM = record_system(FACILITY)
VITALS = (("weight", 62.5, "kg"), ("bp_systolic", 135, "mm[Hg]"))


def vital(encounter_url: str, code: str, value: float, unit: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": CS_OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [{"system": CS_OBSERVATION_CODE, "code": code}]},
        "encounter": {"reference": encounter_url},
        "valueQuantity": {"value": value, "unit": unit},
    }


def transaction(prefix: str, national_ids: list[str]) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for index in range(ENCOUNTERS):
        nid = national_ids[index % len(national_ids)]
        subject = {"reference": f"Patient?identifier={SID_CCCD}|{nid}"}
        url = f"urn:uuid:00000000-0000-4000-8000-{index:012d}"
        visit = {
            "resourceType": "Encounter",
            "identifier": [{"system": SYSTEM, "value": f"{prefix}-{index:03d}"}],
            "status": "finished",
            "class": {"system": CS_ACT_CODE, "code": "AMB"},
            "subject": subject,
            "period": {"start": "2026-03-02"},
            "reasonCode": [{"text": "khám định kỳ tim mạch"}],
        }
        diagnosis = {"resourceType": "Condition", "code": {"coding": [{"system": CS_ICD10, "code": "I10"}]}, "subject": subject}
        entries.append({"fullUrl": url, "resource": visit, "request": {"method": "POST", "url": "Encounter"}})
        for code, value, unit in VITALS:
            entries.append({"resource": vital(url, code, value, unit), "request": {"method": "POST", "url": "Observation"}})
        entries.append(
            {"resource": diagnosis | {"encounter": {"reference": url}}, "request": {"method": "POST", "url": "Condition"}}
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def bulk(prefix: str, national_ids: list[str]) -> dict[str, Any]:
    """The same records as the JSON bulk path takes them."""
    items = [
        {
            "kind": "outpatient_visit",
            "external_id": f"{prefix}-{index:03d}",
            "national_id": national_ids[index % len(national_ids)],
            "occurred_on": "2026-03-02",
            "reason": "khám định kỳ tim mạch",
            "measurements": [{"code": code, "value": value, "unit": unit} for code, value, unit in VITALS],
            "diagnoses": [{"code": "I10"}],
        }
        for index in range(ENCOUNTERS)
    ]
    return {"items": items}


def settle(meter: CpuMeter, quiet: float = 0.15, limit: float = 60) -> None:
    """Wait until the stack is idle (the consumers have caught up with the events of the previous run), so that
    one path does not pay for the other's events."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        meter.start()
        time.sleep(1)
        if sum(seconds for name, seconds in meter.spent().items() if name != "load generator") < quiet:
            return


def posts(meter: CpuMeter, post: Callable[[int], None]) -> dict[str, Any]:
    settle(meter)
    meter.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(post, range(BUNDLES)))
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "cpu": meter.spent()}


def through_gateway(stack: Stack, his: httpx.Client, national_ids: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    meter = CpuMeter({name: process.pid for name, process in stack.processes.items()})
    bundles = [json.dumps(transaction(f"FH{b}", national_ids)).encode() for b in range(BUNDLES)]
    bulks = [json.dumps(bulk(f"JS{b}", national_ids)).encode() for b in range(BUNDLES)]

    def post_bundle(index: int) -> None:
        answer = his.post("/fhir/R4", content=bundles[index], headers={"content-type": FHIR_JSON})
        if answer.status_code != 200:
            raise RuntimeError(f"transaction refused: {answer.status_code} {answer.text[:500]}")
        statuses = {e["response"]["status"] for e in answer.json()["entry"]}
        if statuses != {"201 Created"}:
            raise RuntimeError(f"transaction answered {statuses}")

    def post_bulk(index: int) -> None:
        answer = his.post("/api/v1/clinical/his/records/bulk", content=bulks[index], headers={"content-type": "application/json"})
        answer.raise_for_status()
        if answer.json()["counts"] != {"created": ENCOUNTERS}:
            raise RuntimeError(f"bulk answered {answer.json()['counts']}")

    warm = json.dumps(transaction("WARM", national_ids)).encode()  # first requests pay imports and caches
    his.post("/fhir/R4", content=warm, headers={"content-type": FHIR_JSON}).raise_for_status()
    return posts(meter, post_bundle), posts(meter, post_bulk)


def cpu_text(cpu: dict[str, float], count: int, unit: str) -> str:
    shown = ", ".join(
        f"{name} {seconds / count * 1000:.2f} ms" for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]) if seconds
    )
    return f"CPU per {unit} {sum(cpu.values()) / count * 1000:.2f} ms ({shown})"


def main() -> None:
    with stack_directory("bench-fhir-") as directory:
        run_in(directory)


def run_in(directory: Path) -> None:
    config = StackConfig.on_free_ports(directory)
    demo.ensure_demo_principals(directory / "gateway" / "principals.json")
    stack = Stack(config, extra_env=CAPACITY_ENV)
    print(
        f"whole stack (gateway + 4 services + Tansu) in {directory}; {BUNDLES} transactions of {ENCOUNTERS * 4} entries",
        flush=True,
    )
    try:
        stack.start(timeout=120)  # inside: processes already spawned when start-up fails are stopped too
        admin = login(config.gateway_url, {"grant_type": "password", "username": "admin", "password": demo.DEMO_USERS["admin"]})
        his_form = {"grant_type": "client_credentials", "client_id": HIS_CLIENT, "client_secret": demo.DEMO_CLIENTS[HIS_CLIENT]}
        his = login(config.gateway_url, his_form)
        national_ids = register_cadres(admin)
        wait_until_clinical_knows(his, national_ids)
        fhir, json_bulk = through_gateway(stack, his, national_ids)
    finally:
        stack.stop()
    resources, records = BUNDLES * ENCOUNTERS * 4, BUNDLES * ENCOUNTERS
    print(f"FHIR transactions of {ENCOUNTERS * 4} entries: {resources / fhir['seconds']:.0f} resources/s"
          f" ({records / fhir['seconds']:.0f} records/s); goal >= 1,000 resources/s")  # fmt: skip
    print(f"  {cpu_text(fhir['cpu'], resources, 'resource')}")
    print(f"JSON bulk of {ENCOUNTERS}, same records: {records / json_bulk['seconds']:.0f} records/s")
    print(f"  {cpu_text(json_bulk['cpu'], records, 'record')}")
    print(f"ratio FHIR / JSON bulk (records/s, same content): {json_bulk['seconds'] / fhir['seconds']:.2f}")
    rate = resources / fhir["seconds"]
    record_goal(
        "fhir",
        f"FHIR transactions of {ENCOUNTERS * 4} entries through the gateway",
        ">= 1,000 resources/s",
        f"{rate:.0f} resources/s",
        met=rate >= 1000,
        ratio=f"records/s x{json_bulk['seconds'] / fhir['seconds']:.2f} of the JSON bulk",
    )
