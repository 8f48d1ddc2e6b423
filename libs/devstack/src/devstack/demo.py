"""The demo data set: Lâm Đồng province with its districts (real GSO codes), demo users, and a few
hundred synthetic cadres in the proportions of the seeds (Lâm Đồng 2023: 13 central-tier, 54
group 1, 537 group 2, 776 group 3; most of groups 2 and 3 retired), scaled to about a quarter.
"""

import importlib
import importlib.util
import json
import random
import subprocess
import sys
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from contracts.enums import CadreStatus, ManagementTier, Sex
from servicekit import clock

PROVINCE = "VN.68"
# The demo users and HIS client: a seed for the gateway (plaintext secrets, roles by name), which the gateway
# turns into its principals file; the same file gives the banner and the tests the passwords to sign in with.
DEMO_PRINCIPALS = resources.files("devstack") / "data" / "demo-principals.json"
_demo_seed: dict[str, list[dict[str, Any]]] = json.loads(DEMO_PRINCIPALS.read_text(encoding="utf-8"))
DEMO_USERS: dict[str, str] = {user["username"]: user["password"] for user in _demo_seed["users"]}
DEMO_CLIENTS: dict[str, str] = {client["client_id"]: client["secret"] for client in _demo_seed["clients"]}

# tier -> (count, share active): central 3 of 13 active; groups 2 and 3 about 35% active (seed 003)
DEMO_TIERS: dict[ManagementTier, tuple[int, float]] = {
    ManagementTier.CENTRAL: (13, 3 / 13),
    ManagementTier.PROVINCIAL_1: (14, 0.6),
    ManagementTier.PROVINCIAL_2: (134, 0.35),
    ManagementTier.PROVINCIAL_3: (194, 0.35),
}
DISTRICT_CADRES_EACH = 10

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE_MALE = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thanh", "Công"]
MIDDLE_FEMALE = ["Thị", "Ngọc", "Thanh", "Thu", "Kim"]
GIVEN_MALE = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hải",
    "Hùng",
    "Long",
    "Nam",
    "Phong",
    "Phúc",
    "Quân",
    "Sơn",
    "Trung",
    "Tuấn",
    "Vinh",
]
GIVEN_FEMALE = ["Hà", "Hoa", "Lan", "Mai", "Tâm", "Thảo", "Yến", "Hương", "Nga", "Liên"]
STREETS = ["Trần Phú", "Phan Đình Phùng", "Hùng Vương", "Bùi Thị Xuân"]
POSITIONS = [
    "Nguyên Phó Chủ tịch UBND tỉnh",
    "Giám đốc Sở",
    "Phó Giám đốc Sở",
    "Bí thư Huyện ủy",
    "Trưởng ban",
    "Chuyên viên cao cấp",
]


def demo_units() -> list[dict[str, Any]]:
    units: list[dict[str, Any]] = json.loads((resources.files("devstack") / "data" / "lam_dong_units.json").read_text())
    return units


def ensure_demo_principals(path: Path) -> None:
    """The gateway's principals file at `path` from the demo seed, unless it exists. The gateway builds it
    (hashes the secrets, expands the roles): a process of its own, so the launcher imports no service."""
    if path.exists():
        return
    with resources.as_file(DEMO_PRINCIPALS) as seed:
        subprocess.run(
            [sys.executable, "-m", "gateway.identity", "seed", str(seed), str(path)], check=True, stdout=subprocess.DEVNULL
        )


def _national_id(rng: random.Random, birth: date, sex: Sex) -> str:
    century_sex = (0 if birth.year < 2000 else 2) + (1 if sex is Sex.FEMALE else 0)
    return f"068{century_sex}{birth.year % 100:02d}{rng.randrange(10**6):06d}"


def _cadre(rng: random.Random, tier: ManagementTier, unit: str, active: bool) -> dict[str, Any]:
    sex = Sex.MALE if rng.random() < 0.8 else Sex.FEMALE
    middle, given = (MIDDLE_MALE, GIVEN_MALE) if sex is Sex.MALE else (MIDDLE_FEMALE, GIVEN_FEMALE)
    birth = date(rng.randrange(1965, 1975) if active else rng.randrange(1935, 1964), rng.randrange(1, 13), rng.randrange(1, 29))
    cadre = {
        "full_name": f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}",
        "date_of_birth": birth.isoformat(),
        "sex": sex.value,
        "national_id": _national_id(rng, birth, sex),
        "tier": tier.value,
        "managing_unit": unit,
        "status": (CadreStatus.ACTIVE if active else CadreStatus.RETIRED).value,
        "status_since": (date(birth.year + 60, 1, 1) if not active else date(2020, 1, 1)).isoformat(),
        "position": rng.choice(POSITIONS),
        "residence_address": f"{rng.randrange(1, 200)} đường {rng.choice(STREETS)}, Đà Lạt",
        "phone": f"09{rng.randrange(10**8):08d}",
    }
    # a BHYT card (QĐ 130 XML names patients by it), derived without drawing from rng so the rest of the demo
    # stays as it was: group DN (working) or HT (retired), benefit level 4/3, province 68, a 10-digit number
    group = "DN4" if active else "HT3"
    return cadre | {"bhyt_number": f"{group}68{cadre['national_id'][2:]}", "bhyt_valid_to": f"{clock.today().year}-12-31"}


def demo_cadres(seed: int = 2023) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cadres = []
    for tier, (count, share_active) in DEMO_TIERS.items():
        actives = round(count * share_active)
        cadres += [_cadre(rng, tier, PROVINCE, index < actives) for index in range(count)]
    districts = [u["path"] for u in demo_units() if u["level"] == "district"]
    for district in districts:
        cadres += [_cadre(rng, ManagementTier.DISTRICT, district, index % 2 == 0) for index in range(DISTRICT_CADRES_EACH)]
    return cadres


DOMAIN_SEEDS = ("demo_registry", "demo_scheduling", "demo_clinical", "demo_reporting")


def seed(gateway_url: str) -> list[str]:
    """Load the demo through the public API, as the administrator: the base registry (units, cadres), then
    each domain's own demo module in an order where events have somewhere to land. Returns one line each."""
    with httpx.Client(base_url=gateway_url, timeout=60) as client:
        token = (
            client.post(
                "/api/v1/auth/token", data={"grant_type": "password", "username": "admin", "password": DEMO_USERS["admin"]}
            )
            .raise_for_status()
            .json()["access_token"]
        )
        client.headers["authorization"] = f"Bearer {token}"
        client.post("/api/v1/registry/units/import", json=demo_units()).raise_for_status()
        created = 0
        for cadre in demo_cadres():
            answer = client.post("/api/v1/registry/cadres", json=cadre)
            if answer.status_code == 409:  # an earlier, interrupted seeding already created it
                continue
            answer.raise_for_status()
            created += 1
        summary = [f"registry: {created} cadres of Lâm Đồng (VN.68) and its 12 districts"]
        for name in DOMAIN_SEEDS:
            if importlib.util.find_spec(f"devstack.{name}") is None:
                continue
            module = importlib.import_module(f"devstack.{name}")
            try:
                summary.append(module.seed(client))
            except Exception as exc:  # noqa: BLE001 - the demo is a courtesy: say what failed and go on
                summary.append(f"{name}: not loaded ({exc})")
        return summary
