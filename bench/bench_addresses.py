"""Residence addresses read to today's commune (issue #10, point 5), in-process and without a database: the
national units (units/national.py) stand in for the registry's units and successions.

- reading one address (both parses of vietnamadminunits), cold and from the cache: mean, p50, p95;
- old-form addresses (commune, district, province of the 63-province map; every commune of the country, a
  sample) and new-form ones (every commune of the 34-province map): how many resolve to one commune of today,
  how many are ambiguous (split communes) or unresolved.
"""

import os
import random
import statistics
import time
from collections import Counter

from bench.common import percentile
from contracts.enums import UnitLevel
from registry.addresses import domain
from registry.addresses.domain import UnitFacts, key, read_address, resolve
from registry.units.national import NationalUnits, national_units

SAMPLE = int(os.environ.get("BENCH_ADDRESSES_SAMPLE", "3000"))


def facts_of(data: NationalUnits) -> UnitFacts:
    current = {u.path for u in data.current} | {data.nation.path}
    communes = {u.path for u in data.current if u.level == UnitLevel.COMMUNE}
    successors: dict[str, list[str]] = {}
    for s in data.successors:
        if s.old_path != s.new_path:
            successors.setdefault(s.old_path, []).append(s.new_path)
    named: dict[tuple[str, str], list[str]] = {}
    for u in data.current:
        if u.level == UnitLevel.COMMUNE:
            named.setdefault((u.parent_path or "", key(u.name)), []).append(u.path)
    return UnitFacts(
        frozenset(current),
        frozenset(communes),
        {old: tuple(news) for old, news in successors.items()},
        {place: tuple(paths) for place, paths in named.items()},
    )


def addresses(data: NationalUnits, rng: random.Random) -> tuple[list[str], list[str]]:
    before = {u.path: u.name for u in data.legacy}  # a path may name another province after 2025 (VN.82)
    since = {u.path: u.name for u in data.current}
    old = [
        f"{rng.randrange(1, 200)} Trần Phú, {u.name}, {before[u.parent_path or '']}, {before['.'.join(u.path.split('.')[:2])]}"
        for u in data.legacy
        if u.level == UnitLevel.COMMUNE
    ]
    new = [
        f"{rng.randrange(1, 200)} Lê Lợi, {u.name}, {since[u.parent_path or '']}"
        for u in data.current
        if u.level == UnitLevel.COMMUNE
    ]
    return rng.sample(old, min(SAMPLE, len(old))), new


def main() -> None:
    rng = random.Random(10)
    data = national_units()
    facts = facts_of(data)
    for label, sample in zip(("old form", "new form"), addresses(data, rng), strict=True):
        domain._read.cache_clear()
        cold = []
        for address in sample:
            started = time.perf_counter()
            read_address(address)
            cold.append(time.perf_counter() - started)
        started = time.perf_counter()
        outcomes = Counter(resolve(read_address(a), facts).status.value for a in sample)
        warm = (time.perf_counter() - started) / len(sample)
        print(
            f"{label}: {len(sample)} addresses; read cold mean {statistics.mean(cold) * 1000:.2f} ms, "
            f"p50 {percentile(cold, 50) * 1000:.2f} ms, p95 {percentile(cold, 95) * 1000:.2f} ms; "
            f"cached read + resolve {warm * 1e6:.1f} µs; {dict(outcomes)}",
            flush=True,
        )
