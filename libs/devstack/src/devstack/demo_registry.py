"""Registry demo data beyond the base seeding (demo.py): the neighbouring provinces that the 2025 reorganisation
merged into Lâm Đồng (units only: the reorganisation itself, in the same data file data/lam_dong_2025.json, is
left for the user to run), health-care cards for the central-tier cadres, and two proposed beneficiaries, one
already appraised.
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


def seed(client: httpx.Client) -> str:
    units = client.post(f"{API}/units/import", json=lam_dong_2025()["units"])
    units.raise_for_status()
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
    return f"registry: {units.json()['created']} units of Đắk Nông and Bình Thuận, {cards} cards issued, {proposals} proposals"
