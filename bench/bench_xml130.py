"""QĐ 130 XML ingestion (issue #11): envelopes/s through the gateway in batches, parsing alone per core, and the
ratio to the JSON bulk path carrying the same content, in the same run, on SQLite (the embedded default).

1. parsing alone, in this process (one core): BENCH_XML130_PARSE envelopes (default 300) of one encounter each
   (XML1-XML4, 30 lines per list table, then 10: the goal's "about 30 lines" read per table or per envelope) read
   again and again for 3 s: envelopes per CPU-second of this process (and per wall second); then reading +
   mapping into the core's commands + their validation (what clinical does before the database);
2. through the gateway: BENCH_XML130_BATCHES uploads (default 20) of BENCH_XML130_BATCH envelopes each (default
   50) as one ZIP per upload, from 2 concurrent clients: envelopes/s and the CPU seconds each process spent per
   envelope (read from /proc);
3. the JSON bulk path with the same records (the mapping's commands as JSON) in bulks of the same size.
Goals (issue #11): >= 200 envelopes/s through the gateway; parsing alone >= 2,000 envelopes/s per core.
"""

import cProfile
import io
import json
import os
import pstats
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.bench_clinical import HIS_CLIENT, CpuMeter, login
from bench.common import record_goal, stack_directory
from clinical.ingestion.service import parse_item
from clinical.xml130 import mapping
from clinical.xml130.parsing import parse_envelope
from devstack import demo
from devstack.config import StackConfig
from devstack.stack import Stack
from devstack.xml130_samples import Patient, encounter, envelope
from servicekit import clock

PARSE = int(os.environ.get("BENCH_XML130_PARSE", "300"))
BATCHES = int(os.environ.get("BENCH_XML130_BATCHES", "20"))
BATCH = int(os.environ.get("BENCH_XML130_BATCH", "50"))
PARSE_LINES = (30, 10)  # the "about 30 lines": per list table, or per envelope (10 in each of XML2-4)
CLIENTS = 2
CADRES = 100
MA_CSKCB = "68001"


def cadres(admin: httpx.Client) -> list[Patient]:
    admin.post("/api/v1/registry/units/import", json=demo.demo_units()).raise_for_status()
    provincial = [c for c in demo.demo_cadres() if c["managing_unit"] == "VN.68"]
    patients = []
    for index in range(CADRES):
        template = provincial[index % len(provincial)]
        national_id = f"{template['national_id'][:6]}{index:06d}"
        body = template | {"national_id": national_id, "bhyt_number": f"HT368{index:010d}"}
        answer = admin.post("/api/v1/registry/cadres", json=body)
        if answer.status_code != 201:
            raise RuntimeError(f"registering a cadre failed: {answer.status_code} {answer.text}")
        patients.append(Patient(national_id, bhyt=body["bhyt_number"]))
    return patients


def documents(prefix: str, patients: list[Patient], count: int, lines: int = 30) -> list[bytes]:
    return [envelope([encounter(f"{prefix}-{i:06d}", patients[i % len(patients)], lines=lines, ma_cskcb=MA_CSKCB)],
                     ma_cskcb=MA_CSKCB)
            for i in range(count)]  # fmt: skip


def zipped(batch: list[bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, document in enumerate(batch):
            archive.writestr(f"{index:04d}.xml", document)
    return buffer.getvalue()


def per_second(work: Callable[[], int], seconds: float = 3.0) -> tuple[float, float]:
    """(items/s wall, items/s of this process's CPU) of `work` repeated for `seconds`."""
    done, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        done += work()
    return done / (time.perf_counter() - started), done / (time.process_time() - cpu)


def commands_of(document: bytes) -> list[dict[str, Any]]:
    tables = {name: table.rows for name, table in parse_envelope(document).encounters[0].tables.items()}
    return mapping.map_encounter(tables, MA_CSKCB, tables["XML1"][0]["SO_CCCD"] or "", clock.today()).commands


def parsing(patients: list[Patient], lines: int) -> dict[str, float]:
    sample = documents("PARSE", patients, PARSE, lines)

    def parse_only() -> int:
        for document in sample:
            parse_envelope(document)
        return len(sample)

    def parse_and_map() -> int:
        for index, document in enumerate(sample):
            for offset, command in enumerate(commands_of(document)):
                parse_item(index + offset, command)
        return len(sample)

    parse_wall, parse_cpu = per_second(parse_only)
    map_wall, map_cpu = per_second(parse_and_map)
    return {"parse": parse_wall, "parse_cpu": parse_cpu, "map": map_wall, "map_cpu": map_cpu}


def uploads(meter: CpuMeter, post: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    meter.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(post, range(BATCHES)))
    elapsed = time.perf_counter() - started
    spent = meter.spent()
    counts: dict[str, int] = {}
    for answer in answers:
        for outcome, number in answer["counts"].items():
            counts[outcome] = counts.get(outcome, 0) + number
    total = BATCHES * BATCH
    return {"rate": total / elapsed, "counts": counts, "cpu": {k: v / total for k, v in spent.items()}, "seconds": elapsed}


def through_gateway(stack: Stack, his: httpx.Client, patients: list[Patient]) -> tuple[dict[str, Any], dict[str, Any]]:
    pids = {name: process.pid for name, process in stack.processes.items()}
    meter = CpuMeter(pids)
    xml_batches = [zipped(documents(f"GW{b}", patients, BATCH)) for b in range(BATCHES)]
    json_batches = [[c for d in documents(f"JS{b}", patients, BATCH) for c in commands_of(d)] for b in range(BATCHES)]
    json_bodies = [json.dumps({"items": items}, default=str).encode() for items in json_batches]

    def post_xml(index: int) -> dict[str, Any]:
        answer = his.post("/api/v1/clinical/his/xml130", content=xml_batches[index], headers={"content-type": "application/zip"})
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def post_json(index: int) -> dict[str, Any]:
        answer = his.post(
            "/api/v1/clinical/his/records/bulk", content=json_bodies[index], headers={"content-type": "application/json"}
        )
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    post_xml(0)  # warm-up: first requests pay imports and caches (its encounters answer existed below)
    xml = uploads(meter, post_xml)
    return xml, uploads(meter, post_json)


def profile_reading(patients: list[Patient], top: int = 12) -> list[tuple[str, float]]:
    """Where reading + mapping + validating spends its CPU (cProfile self time, as shares): this part runs
    in-process the same as in clinical, so a profiler in this process sees what clinical does."""
    sample = documents("PROF", patients, 100)
    profile = cProfile.Profile()
    profile.enable()
    for index, document in enumerate(sample):
        for offset, command in enumerate(commands_of(document)):
            parse_item(index + offset, command)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    selfs = {f"{Path(file).name}:{line}({name})": tottime for (file, line, name), (_, _, tottime, _, _) in stats.items()}
    total = sum(selfs.values()) or 1.0
    return [(name, spent / total) for name, spent in sorted(selfs.items(), key=lambda kv: -kv[1])[:top]]


def cpu_text(cpu: dict[str, float]) -> str:
    shown = ", ".join(
        f"{name} {seconds * 1000:.2f} ms" for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]) if seconds
    )
    return f"CPU per envelope {sum(cpu.values()) * 1000:.2f} ms ({shown})"


def main() -> None:
    with stack_directory("bench-xml130-") as directory:
        run_in(directory)


def run_in(directory: Path) -> None:
    config = StackConfig.on_free_ports(directory)
    demo.ensure_demo_principals(directory / "gateway" / "principals.json")
    registration = {"68-BVDK": {"ma_cskcb": MA_CSKCB, "signature_required": False}}
    stack = Stack(config, extra_env={"CLINICAL_XML130_FACILITIES": json.dumps(registration)})
    print(f"whole stack (gateway + 4 services + Tansu) in {directory}; batches of {BATCH} envelopes", flush=True)
    try:
        stack.start(timeout=120)  # inside: processes already spawned when start-up fails are stopped too
        admin = login(config.gateway_url, {"grant_type": "password", "username": "admin", "password": demo.DEMO_USERS["admin"]})
        his_form = {"grant_type": "client_credentials", "client_id": HIS_CLIENT, "client_secret": demo.DEMO_CLIENTS[HIS_CLIENT]}
        his = login(config.gateway_url, his_form)
        patients = cadres(admin)
        time.sleep(5)  # clinical learns the cadres from the registry's events
        parsed = {lines: parsing(patients, lines) for lines in PARSE_LINES}
        xml, bulk = through_gateway(stack, his, patients)
    finally:
        stack.stop()
    for lines, figures in parsed.items():
        size = len(documents("SIZE", [Patient("068052000001")], 1, lines)[0])
        shape = f"XML1 + {lines} drugs, {lines} services, {lines} results (XML2-4), {size / 1024:.0f} KiB"
        print(f"one envelope: {shape}")
        print(f"  parsing alone (one core): {figures['parse']:.0f} envelopes/s, {figures['parse_cpu']:.0f} per CPU-second")
        print(f"  reading + mapping + validating: {figures['map']:.0f} envelopes/s, {figures['map_cpu']:.0f} per CPU-second")
        record_goal(
            "xml130",
            f"parsing alone per core, {lines} lines per list table ({size / 1024:.0f} KiB)",
            ">= 2,000 envelopes per CPU-s",
            f"{figures['parse_cpu']:.0f} per CPU-s ({1e6 / figures['parse_cpu']:.0f} us each)",
            met=figures["parse_cpu"] >= 2000,
        )
    print(f"through the gateway, ZIP of {BATCH}: {xml['rate']:.0f} envelopes/s {xml['counts']}; goal >= 200")
    print(f"  {cpu_text(xml['cpu'])}")
    print(f"JSON bulk of {BATCH}, same records: {bulk['rate']:.0f} records/s {bulk['counts']}")
    print(f"  {cpu_text(bulk['cpu'])}")
    print(f"ratio XML / JSON bulk: {xml['rate'] / bulk['rate']:.2f}")
    record_goal(
        "xml130",
        f"through the gateway, ZIP of {BATCH}",
        ">= 200 envelopes/s",
        f"{xml['rate']:.0f} envelopes/s",
        met=xml["rate"] >= 200,
        ratio=f"x{xml['rate'] / bulk['rate']:.2f} of the JSON bulk",
    )
    print("where reading + mapping + validating spends its CPU (cProfile, self time):")
    for name, share in profile_reading(patients):
        print(f"  {share:6.1%}  {name}")


if __name__ == "__main__":
    main()
