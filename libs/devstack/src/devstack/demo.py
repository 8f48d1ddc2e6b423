"""The demo data set, after 2025: the new Lâm Đồng (the old Lâm Đồng, Đắk Nông and Bình Thuận) with its real
communes. Its cadres are registered on the units as they stood before 1 July 2025 (the old provinces and their
districts), some with records in 2023; the 2025 reorganisation then carries them onto today's units (district-tier
cadres re-tiered to the commune of their residence); records after 2025 land on the new communes. Demo users:
the administrator, the new province's board, a commune board it delegates to, the central board (and the old Đà
Lạt district board, whose login the tests keep). A few hundred synthetic cadres in the proportions of the seeds
(Lâm Đồng 2023: 13 central-tier, 54 group 1, 537 group 2, 776 group 3; most of groups 2 and 3 retired), scaled to
about a quarter.
"""

import csv
import importlib
import importlib.util
import io
import json
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from contracts.enums import CadreStatus, ManagementTier, Sex
from devstack import demo_national
from servicekit import clock

PROVINCE = "VN.68"
# The demo users and HIS client: a seed for the gateway (plaintext secrets, roles by name), which the gateway
# turns into its principals file; the same file gives the banner and the tests the passwords to sign in with.
DEMO_PRINCIPALS = resources.files("devstack") / "data" / "demo-principals.json"
_demo_seed: dict[str, list[dict[str, Any]]] = json.loads(DEMO_PRINCIPALS.read_text(encoding="utf-8"))
DEMO_USERS: dict[str, str] = {user["username"]: user["password"] for user in _demo_seed["users"]}
DEMO_USER_NAMES: dict[str, str] = {user["username"]: user["display_name"] for user in _demo_seed["users"]}
DEMO_CLIENTS: dict[str, str] = {client["client_id"]: client["secret"] for client in _demo_seed["clients"]}

# tier -> (count, share active): central 3 of 13 active; groups 2 and 3 about 35% active (seed 003)
DEMO_TIERS: dict[ManagementTier, tuple[int, float]] = {
    ManagementTier.CENTRAL: (13, 3 / 13),
    ManagementTier.PROVINCIAL_1: (14, 0.6),
    ManagementTier.PROVINCIAL_2: (134, 0.35),
    ManagementTier.PROVINCIAL_3: (194, 0.35),
}
DISTRICT_CADRES_EACH = 12
# The old Lâm Đồng's districts as the national data has them on 30 June 2025 (Đạ Huoai, Đạ Tẻh and Cát Tiên were
# merged into Huyện Đạ Huoai, 682, in 2024), each with a few of its communes: old-form residence addresses.
DISTRICTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "VN.68.672": ("Thành phố Đà Lạt", ("Phường 1", "Phường 2", "Phường 3", "Phường 4", "Phường 10", "Phường 8", "Phường 9")),
    "VN.68.673": ("Thành phố Bảo Lộc", ("Phường Lộc Phát", "Phường Lộc Tiến", "Phường 2", "Phường 1")),
    "VN.68.674": ("Huyện Đam Rông", ("Xã Đạ Tông", "Xã Đạ Long", "Xã Liêng Srônh")),
    "VN.68.675": ("Huyện Lạc Dương", ("Thị trấn Lạc Dương", "Xã Đạ Chais", "Xã Lát")),
    "VN.68.676": ("Huyện Lâm Hà", ("Thị trấn Nam Ban", "Thị trấn Đinh Văn", "Xã Phú Sơn")),
    "VN.68.677": ("Huyện Đơn Dương", ("Thị trấn Thạnh Mỹ", "Xã Lạc Xuân", "Xã Lạc Lâm")),
    "VN.68.678": ("Huyện Đức Trọng", ("Thị trấn Liên Nghĩa", "Xã Hiệp An", "Xã Hiệp Thạnh")),
    "VN.68.679": ("Huyện Di Linh", ("Thị trấn Di Linh", "Xã Tân Thượng", "Xã Tân Châu")),
    "VN.68.680": ("Huyện Bảo Lâm", ("Thị trấn Lộc Thắng", "Xã Lộc Bảo", "Xã Lộc Phú")),
    "VN.68.682": ("Huyện Đạ Huoai", ("Thị trấn Ma Đa Guôi", "Xã Hà Lâm", "Xã Đạ Oai")),
}
PROVINCE_NAMES = {"VN.68": "Tỉnh Lâm Đồng", "VN.67": "Tỉnh Đắk Nông", "VN.60": "Tỉnh Bình Thuận"}
# the two provinces merged into Lâm Đồng: their board's cadres and those of their main city's district board
NEIGHBOURS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "VN.67": ("VN.67.660", "Thành phố Gia Nghĩa", ("Phường Nghĩa Đức", "Phường Nghĩa Thành", "Phường Nghĩa Tân")),
    "VN.60": ("VN.60.593", "Thành phố Phan Thiết", ("Phường Phú Thủy", "Phường Phú Tài", "Phường Hàm Tiến")),
}
NEIGHBOUR_TIERS = ((ManagementTier.PROVINCIAL_1, 2), (ManagementTier.PROVINCIAL_2, 4), (ManagementTier.PROVINCIAL_3, 4))
NEIGHBOUR_DISTRICT_CADRES = 4

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


def _national_id(rng: random.Random, birth: date, sex: Sex, province_code: str = "068") -> str:
    century_sex = (0 if birth.year < 2000 else 2) + (1 if sex is Sex.FEMALE else 0)
    return f"{province_code}{century_sex}{birth.year % 100:02d}{rng.randrange(10**6):06d}"


def residence(house: int, street: str, unit: str, national_id: str) -> str:
    """An old-form address (commune, district, province) in the unit's district, or in Đà Lạt for a province's
    cadre: the commune is chosen by the CCCD, so that the random draws stay those of the first demo."""
    province = ".".join(unit.split(".")[:2])
    if province in NEIGHBOURS:
        _, district_name, communes = NEIGHBOURS[province]
    else:
        district_name, communes = DISTRICTS.get(unit, DISTRICTS["VN.68.672"])
    commune = communes[int(national_id[-4:]) % len(communes)]
    return f"{house} đường {street}, {commune}, {district_name}, {PROVINCE_NAMES[province]}"


def _cadre(rng: random.Random, tier: ManagementTier, unit: str, active: bool, province_code: str = "068") -> dict[str, Any]:
    sex = Sex.MALE if rng.random() < 0.8 else Sex.FEMALE
    middle, given = (MIDDLE_MALE, GIVEN_MALE) if sex is Sex.MALE else (MIDDLE_FEMALE, GIVEN_FEMALE)
    birth = date(rng.randrange(1965, 1975) if active else rng.randrange(1935, 1964), rng.randrange(1, 13), rng.randrange(1, 29))
    full_name = f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"
    national_id = _national_id(rng, birth, sex, province_code)
    position = rng.choice(POSITIONS)
    house, street = rng.randrange(1, 200), rng.choice(STREETS)
    cadre = {
        "full_name": full_name,
        "date_of_birth": birth.isoformat(),
        "sex": sex.value,
        "national_id": national_id,
        "tier": tier.value,
        "managing_unit": unit,
        "status": (CadreStatus.ACTIVE if active else CadreStatus.RETIRED).value,
        "status_since": (date(birth.year + 60, 1, 1) if not active else date(2020, 1, 1)).isoformat(),
        "position": position,
        "residence_address": residence(house, street, unit, national_id),
        "phone": f"09{rng.randrange(10**8):08d}",
    }
    # a BHYT card (QĐ 130 XML names patients by it), derived without drawing from rng so the rest of the demo
    # stays as it was: group DN (working) or HT (retired), benefit level 4/3, province 68, a 10-digit number
    group = "DN4" if active else "HT3"
    return cadre | {"bhyt_number": f"{group}68{cadre['national_id'][2:]}", "bhyt_valid_to": f"{clock.today().year}-12-31"}


def demo_cadres(seed: int = 2023) -> list[dict[str, Any]]:
    """The old Lâm Đồng's 475: its board's tiers at VN.68, and 12 district-tier cadres in each of its 10 districts."""
    rng = random.Random(seed)
    cadres = []
    for tier, (count, share_active) in DEMO_TIERS.items():
        actives = round(count * share_active)
        cadres += [_cadre(rng, tier, PROVINCE, index < actives) for index in range(count)]
    for district in DISTRICTS:
        cadres += [_cadre(rng, ManagementTier.DISTRICT, district, index % 2 == 0) for index in range(DISTRICT_CADRES_EACH)]
    return cadres


def neighbour_cadres(seed: int = 2025) -> list[dict[str, Any]]:
    """Đắk Nông's and Bình Thuận's boards' cadres (14 each), which the 2025 merger brings to Lâm Đồng."""
    rng = random.Random(seed)
    cadres = []
    for province, (district, _, _) in NEIGHBOURS.items():
        code = f"0{province.split('.')[1]}"
        for tier, count in NEIGHBOUR_TIERS:
            cadres += [_cadre(rng, tier, province, index % 2 == 0, code) for index in range(count)]
        district_tier = ManagementTier.DISTRICT
        cadres += [_cadre(rng, district_tier, district, i % 2 == 0, code) for i in range(NEIGHBOUR_DISTRICT_CADRES)]
    return cadres


DOMAIN_SEEDS = ("demo_registry", "demo_scheduling", "demo_clinical", "demo_reporting")


def _sign_in(client: httpx.Client) -> None:
    form = {"grant_type": "password", "username": "admin", "password": DEMO_USERS["admin"]}
    token = client.post("/api/v1/auth/token", data=form).raise_for_status().json()["access_token"]
    client.headers["authorization"] = f"Bearer {token}"


def _register(client: httpx.Client, cadres: list[dict[str, Any]]) -> int:
    """One import of the whole list (a board's CSV); rows already registered by an interrupted seeding are skipped."""
    sheet = io.StringIO()
    writer = csv.DictWriter(sheet, fieldnames=list(cadres[0]))
    writer.writeheader()
    writer.writerows(cadres)
    answer = client.post(
        "/api/v1/registry/cadres/import",
        params={"dry_run": "false", "skip_invalid": "true"},
        content=sheet.getvalue().encode(),
        headers={"content-type": "text/csv"},
    )
    imported: int = answer.raise_for_status().json()["imported"]
    return imported


def _courtesy(name: str, step: Callable[[], str]) -> str:
    try:
        return step()
    except Exception as exc:  # noqa: BLE001 - the demo is a courtesy: say what failed and go on
        return f"{name}: not loaded ({exc})"


def _registry(client: httpx.Client, provinces: tuple[str, ...]) -> list[str]:
    """The country as it stood until 30 June 2025, the demo's cadres on it (and records of 2023), then the 2025
    reorganisation that carries them onto today's units, and their addresses read to today's communes."""
    legacy = demo_national.load(client, "legacy", provinces)
    created = _register(client, [*demo_cadres(), *neighbour_cadres()])
    clinical = importlib.import_module("devstack.demo_clinical")
    lines = [
        f"registry: the provinces, districts and communes as they stood until 2025-06-30 ({legacy['created']} units added)",
        f"registry: {created} cadres registered on the old Lâm Đồng (VN.68), Đắk Nông (VN.67), Bình Thuận (VN.60)"
        " and their districts",
        _courtesy("clinical 2023", lambda: clinical.seed_2023(client)),
    ]
    reform = demo_national.load(client, "2025", provinces)
    lines.append(
        f"registry: 1 July 2025, the provinces and communes since ({reform['created']} units added): {reform['moved_cadres']}"
        f" cadres moved, {reform['retiered_cadres']} of them re-tiered from district to commune"
    )
    lines.append(_courtesy("addresses", lambda: demo_national.resolve_addresses(client)))
    return lines


def seed(gateway_url: str, provinces: tuple[str, ...] = demo_national.PROVINCES_2025) -> list[str]:
    """Load the demo through the public API, as the administrator: the registry's units (of `provinces` of the
    2025 map: the whole country by default) and cadres across the 2025 reorganisation, then each domain's own
    demo module in an order where events have somewhere to land. Returns one line each."""
    with httpx.Client(base_url=gateway_url, timeout=120) as client:
        _sign_in(client)
        summary = _registry(client, provinces)
        for name in DOMAIN_SEEDS:
            if importlib.util.find_spec(f"devstack.{name}") is None:
                continue
            module = importlib.import_module(f"devstack.{name}")
            summary.append(_courtesy(name, lambda: str(module.seed(client))))  # noqa: B023 - called at once
        return summary
