"""The whole country's units for the demo, through the registry's public API (POST /units/national), one province
of the 2025 map at a time: each call stays far below the gateway's upstream timeout, Lâm Đồng goes first, and an
interrupted seeding resumes where it stopped (the load is idempotent). Then every residence address is read to
today's commune (POST /addresses/resolve)."""

from typing import Any

import httpx

REGISTRY = "/api/v1/registry"
FIRST = "VN.68"  # the demo's province: the old Lâm Đồng, Đắk Nông and Bình Thuận
# the 34 provinces and cities of the 2025 map (Nghị quyết 202/2025/QH15), by their GSO codes
CODES_2025 = "01 04 08 11 12 14 15 19 20 22 24 25 31 33 37 38 40 42 44 46 48 51 52 56 66 68 75 79 80 82 86 91 92 96"
PROVINCES_2025 = tuple(f"VN.{code}" for code in CODES_2025.split())
COUNTED = ("created", "already_present", "closed", "successions", "moved_cadres", "retiered_cadres", "events")


def load(client: httpx.Client, stage: str, provinces: tuple[str, ...] = PROVINCES_2025) -> dict[str, int]:
    """One stage ("legacy": the 63-province map; "2025": the reorganisation onto the 34) for every province."""
    totals = dict.fromkeys(COUNTED, 0)
    for province in sorted(provinces, key=lambda p: p != FIRST):
        answer = client.post(f"{REGISTRY}/units/national", json={"stage": stage, "provinces": [province]})
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        for name in COUNTED:
            totals[name] += int(result[name])
    return totals


def resolve_addresses(client: httpx.Client) -> str:
    result = client.post(f"{REGISTRY}/addresses/resolve", json={}).raise_for_status().json()
    to_settle = result["ambiguous"] + result["unresolved"]
    return (
        f"registry: {result['examined']} residence addresses read to today's communes: {result['resolved']} residence "
        f"units set, {to_settle} to settle (GET /addresses/unresolved)"
    )
