"""Demo clinical records, posted as the demo hospital's HIS through the public API: records of 2023, posted
before the 2025 reorganisation is applied (seed_2023), and this year's: periodic exam results dated in the first
round of the demo exam plan (1 March to 30 April), so that they mark the invitations attended, in Lâm Đồng's
classification proportions (A 63, B1 109, B2 82, C 31 of 285; seed 003), some outpatient visits, admissions with
their discharge, and referrals."""

import random
import time
from contextlib import closing
from datetime import date
from typing import Any

import httpx

from devstack.demo import DEMO_CLIENTS
from servicekit import clock

HIS_CLIENT = "his-bvdk-lamdong"
CLASSES = ["A"] * 63 + ["B1"] * 109 + ["B2"] * 82 + ["C"] * 31
CHRONIC = ["I10", "E11.9", "E78.5", "I25.1", "J44.9", "N18.3", "M17", "K74"]


def _his(client: httpx.Client) -> httpx.Client:
    his = httpx.Client(base_url=client.base_url, timeout=60)
    form = {"grant_type": "client_credentials", "client_id": HIS_CLIENT, "client_secret": DEMO_CLIENTS[HIS_CLIENT]}
    his.headers["authorization"] = f"Bearer {his.post('/api/v1/auth/token', data=form).raise_for_status().json()['access_token']}"
    return his


def _exam_year() -> int:
    """This year once its first round (March-April) is over, else last year: no record is dated in the future."""
    today = clock.today()  # Vietnam's date, as the services count it
    return today.year if today >= date(today.year, 5, 1) else today.year - 1


def _day(rng: random.Random, year: int, first_month: int, last_month: int) -> str:
    return date(year, rng.randrange(first_month, last_month + 1), rng.randrange(1, 29)).isoformat()


def _records(rng: random.Random, cadre: dict[str, Any], index: int, year: int) -> list[dict[str, Any]]:
    nid = cadre["national_id"]
    diagnoses = [{"code": code} for code in rng.sample(CHRONIC, rng.randrange(0, 4))]
    records: list[dict[str, Any]] = [
        {
            "kind": "periodic_exam",
            "external_id": f"DEMO-KSK-{year}-{index:05d}",
            "national_id": nid,
            "occurred_on": _day(rng, year, 3, 4),
            "measurements": [
                {"code": "bp_systolic", "value": rng.randrange(110, 170), "unit": "mm[Hg]"},
                {"code": "weight", "value": rng.randrange(48, 85), "unit": "kg"},
            ],
            "diagnoses": diagnoses,
            "classification": {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": rng.choice(CLASSES)},
        }
    ]
    if rng.random() < 0.5:
        records.append(
            {
                "kind": "outpatient_visit",
                "external_id": f"DEMO-NGT-{year}-{index:05d}",
                "national_id": nid,
                "occurred_on": _day(rng, year, 1, 10),
                "diagnoses": diagnoses[:1],
                "prescriptions": ["Amlodipin 5mg x 30 viên"] if diagnoses else [],
            }
        )
    if rng.random() < 0.06:
        records.append(
            {
                "kind": "admission",
                "external_id": f"DEMO-NT-{year}-{index:05d}",
                "national_id": nid,
                "occurred_on": date(year, 4, 10).isoformat(),
                "ward": "Phòng nội A",
                "diagnoses": diagnoses[:1] or [{"code": "J18.9"}],
                "discharge": {"discharged_on": date(year, 4, 18).isoformat(), "outcome": "improved"},
            }
        )
    if rng.random() < 0.02:
        records.append(
            {
                "kind": "referral",
                "external_id": f"DEMO-CV-{year}-{index:05d}",
                "national_id": nid,
                "occurred_on": date(year, 5, 2).isoformat(),
                "referral_kind": rng.choice(["higher_level", "in_province"]),
                "to_facility": "Bệnh viện Thống Nhất",
                "decided_by": "Hội đồng chuyên môn BVSK cán bộ tỉnh",
            }
        )
    return records


def _post(client: httpx.Client, cadres: list[dict[str, Any]], year: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    items = [record for index, cadre in enumerate(cadres) for record in _records(rng, cadre, index, year)]
    with closing(_his(client)) as his:
        # clinical learns the cadres from the registry's events (behind the national units' on a first start):
        # wait until it knows every cadre of the records
        deadline = time.monotonic() + 180
        while True:
            check = his.post("/api/v1/clinical/his/records/bulk", json={"items": items[:1000], "validate_only": True})
            refused = check.raise_for_status().json()["counts"].get("refused", 0)
            if refused == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        counts: dict[str, int] = {"items": len(items)}
        for start in range(0, len(items), 1000):
            answer = his.post("/api/v1/clinical/his/records/bulk", json={"items": items[start : start + 1000]})
            for outcome, n in answer.raise_for_status().json()["counts"].items():
                counts[outcome] = counts.get(outcome, 0) + n
    return counts


def seed(client: httpx.Client) -> str:
    cadres = client.get("/api/v1/registry/cadres", params={"limit": 200}).raise_for_status().json()["items"]
    counts = _post(client, cadres, _exam_year(), 2023)
    items = counts.pop("items")
    return f"clinical: {items} demo records for {len(cadres)} cadres posted as {HIS_CLIENT} ({counts})"


def seed_2023(client: httpx.Client) -> str:
    """2023's records, posted while the cadres are still on the units of before the 2025 reorganisation (the old
    provinces and districts): reports of 2023 count them there, as the units stood."""
    # the old Lâm Đồng's cadres: the demo hospital's HIS writes for the province it is in (VN.68), which before the
    # merger did not hold Đắk Nông's and Bình Thuận's
    params: dict[str, str | int] = {"unit": "VN.68", "limit": 120, "offset": 100}
    cadres = client.get("/api/v1/registry/cadres", params=params).raise_for_status().json()["items"]
    counts = _post(client, cadres, 2023, 2022)
    items = counts.pop("items")
    return f"clinical: {items} records of 2023 for {len(cadres)} cadres, on the units of before 2025 ({counts})"
