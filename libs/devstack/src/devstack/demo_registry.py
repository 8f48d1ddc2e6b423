"""Registry demo data beyond the base seeding (demo.py): health-care cards for the central-tier cadres, two
proposed beneficiaries (one already appraised), and, where the national units are not loaded (tests that build
their own stack), the units of the neighbouring provinces that the 2025 reorganisation merged into Lâm Đồng
(data/lam_dong_2025.json, which also holds that reorganisation as the registry's tests apply it).
"""

import json
from importlib import resources
from typing import Any

import httpx

API = "/api/v1/registry"


def lam_dong_2025() -> dict[str, Any]:
    """Units of the old Lâm Đồng, Đắk Nông and Bình Thuận, and the 2025-07-01 reorganisation that merged them
    (also the registry's test data: one copy, here)."""
    data: dict[str, Any] = json.loads((resources.files("devstack") / "data" / "lam_dong_2025.json").read_text(encoding="utf-8"))
    return data


def _import_units(client: httpx.Client) -> int:
    """The data file's units, unless the registry has them already (the national units of the demo): its
    hand-kept districts would otherwise come back as today's units after the 2025 reorganisation ended them."""
    known = client.get(f"{API}/units", params={"under": "VN.67", "all_versions": True}).raise_for_status().json()
    if known:
        return 0
    created: int = client.post(f"{API}/units/import", json=lam_dong_2025()["units"]).raise_for_status().json()["created"]
    return created


def seed(client: httpx.Client) -> str:
    units = _import_units(client)
    central = client.get(f"{API}/cadres", params={"unit": "VN.68", "tier": "central", "limit": 50})
    central.raise_for_status()
    cards = 0
    for cadre in central.json()["items"]:
        if cadre["card_number"] is None:
            client.post(f"{API}/cadres/{cadre['id']}/cards", json={"reason": "cấp thẻ lần đầu"}).raise_for_status()
            cards += 1
    proposals = 0
    pending = client.get(f"{API}/proposals")
    if pending.status_code == 200 and not pending.json():
        for serial, (name, born) in enumerate((("Phạm Minh Khôi", "1968-09-12"), ("Đinh Thị Mỹ", "1971-03-30"))):
            female = name.split()[1] == "Thị"
            proposal = {
                "full_name": name,
                "date_of_birth": born,
                "sex": "female" if female else "male",
                "national_id": f"068{1 if female else 0}{born[2:4]}7000{serial:02d}",
                "tier": "provincial_3",
                "managing_unit": "VN.68",
                "status": "active",
                "position": "Phó Giám đốc Sở",
                "justification": "Đề nghị bổ sung vào danh sách đối tượng 3 theo Quy định 08-QĐ/TU",
            }
            created = client.post(f"{API}/proposals", json=proposal)
            if created.status_code != 201:
                continue
            proposals += 1
            if serial == 0:
                client.post(
                    f"{API}/proposals/{created.json()['id']}/appraisal", json={"recommend": True, "note": "Hồ sơ đầy đủ"}
                ).raise_for_status()
    added = f"{units} units of Đắk Nông and Bình Thuận added, " if units else ""  # none where the national units are loaded
    return f"registry: {added}{cards} cards issued, {proposals} proposals"
