"""Seed 003, Lâm Đồng's six-monthly report of 2023, rebuilt through the public APIs of the running platform.

Everything goes through the gateway, as the people and systems of the seed would do it:
- the provincial board imports its list of 1,380 cadres (CSV, Vietnamese column titles) into the registry;
- it publishes its cadence rules and Kế hoạch 138-KH (group 1 twice a year, groups 2 and 3 once), generates
  the invitations, and cancels those its plan does not examine (see below); the central board publishes the
  Southern council's Kế hoạch 58-KH for the 13 central-tier cadres at Thống Nhất hospital on 1/3/2023;
- the provincial hospital's HIS posts the exam results (classifications A 63, B1 109, B2 82, C 31 and, for the
  central tier, B1 2, B2 6) with their plan and round, which marks the invitations attended, and in bulk the
  3,289 outpatient visits, 188 admissions, 12 + 26 referrals and 45 home visits of 1/1-31/5/2023;
- the board asks reporting for its six-monthly report (báo cáo 6 tháng) for 1/1-31/5/2023.

Where the seed's own sums are inconsistent, the records keep the stated totals and the report shows
consistent figures (asserted below):
- group 3 is "776 (266 đương chức + 501 nguyên chức)", but 266 + 501 = 767. The registry holds 776 with
  266 active, so 510 retired; the provincial total is then 1,367 as stated (the seed's own parts give
  1,358), and 1,380 in all, up 6 since the end of 2022 as stated.
- "142/193 (73,57%)": 142/193 = 73.5751...; the seed cuts to two decimals and so do scheduling and
  reporting (73.57), as with 143/235 = 60.85.

What the public API cannot say exactly as the seed does (covered as closely as the API allows):
- Plan groups select cadres by tier, status and managing unit, not by residence. The seed's plan examines
  193 of the 347 active group 2/3 cadres and the 235 retired group 2 cadres living in Đà Lạt (of 456), the
  others being examined under the district boards' delegated plans; the registry does not let a district
  board manage provincial tiers. So the board generates for the whole groups and cancels the invitations of
  the cadres its plan does not examine (one call each), which is what the coverage figures then exclude.
- Only one HIS client exists and none can be created through the API, so the central-tier exam results from
  Thống Nhất hospital are posted by the provincial hospital's HIS client (facility 68-BVDK).
- Convalescence registrations (6 of 14 to Đại Lải) have no source service: the report says so.
"""

import csv
import io
import random
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from devstack.stack import Stack
from tests.e2e.conftest import his_login, login
from tests.e2e.helpers import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.own_stack]

PROVINCE, DALAT = "VN.68", "VN.68.672"
PERIOD = {"period_start": "2023-01-01", "period_end": "2023-05-31"}
START, END = date(2023, 1, 1), date(2023, 5, 31)
# tier -> (active, retired) on 31/5/2023; group 3 keeps its stated 776 and 266 active (the seed says 501 retired)
SPLIT = {"central": (3, 10), "provincial_1": (15, 39), "provincial_2": (81, 456), "provincial_3": (266, 510)}
NEW_IN_2023 = 6  # "tăng 06 đồng chí so với thời điểm cuối năm 2022"
CLASSES = {"A": 63, "B1": 109, "B2": 82, "C": 31}
CENTRAL_CLASSES = {"B1": 2, "B2": 6}
OUTPATIENT, ADMISSIONS, HIGHER_LEVEL, IN_PROVINCE, HOME_VISITS = 3289, 188, 12, 26, 45
SCHED, CLINICAL = "/api/v1/scheduling", "/api/v1/clinical/his/records/bulk"
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
GIVEN = ["Văn An", "Hữu Bình", "Đức Cường", "Minh Dũng", "Thị Hoa", "Thanh Hải", "Quang Huy", "Thị Lan", "Công Sơn"]


@pytest.fixture(scope="module")
def his(stack: Stack) -> Iterator[httpx.Client]:
    with closing(his_login(stack, timeout=120)) as client:
        yield client


@pytest.fixture(scope="module")
def board(stack: Stack) -> Iterator[httpx.Client]:
    with closing(login(stack, "lamdong")) as client:
        client.timeout = httpx.Timeout(120)
        yield client


@pytest.fixture(scope="module")
def central(stack: Stack) -> Iterator[httpx.Client]:
    with closing(login(stack, "central")) as client:
        client.timeout = httpx.Timeout(60)
        yield client


# --- the scenario's data --------------------------------------------------------------------------------


def roster(rng: random.Random) -> list[dict[str, Any]]:
    """1,380 cadres in the seed's split; the 6 newest are active group 3, registered from February 2023."""
    rows: list[dict[str, Any]] = []
    serial = 0
    for tier, (active, retired) in SPLIT.items():
        for status, count in (("active", active), ("retired", retired)):
            for i in range(count):
                serial += 1
                female = rng.random() < 0.2
                born = date(
                    rng.randrange(1963, 1976) if status == "active" else rng.randrange(1935, 1963), rng.randrange(1, 13), 1
                )
                new = tier == "provincial_3" and status == "active" and i >= count - NEW_IN_2023
                if new:
                    since = date(2023, 2, 1) + timedelta(days=20 * (i - count + NEW_IN_2023))
                elif status == "active":
                    since = date(rng.randrange(2010, 2022), 1, 1)
                else:
                    since = date(min(born.year + 60, 2022), 7, 1)
                dalat_retiree = tier == "provincial_2" and status == "retired" and i < 235
                rows.append(
                    {
                        "Họ và tên": f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                        "Ngày sinh": born.strftime("%d/%m/%Y"),
                        "Giới tính": "Nữ" if female else "Nam",
                        "Số CCCD": f"068{1 if female else 0}{born.year % 100:02d}{serial:06d}",
                        "Diện quản lý": tier,
                        "Đơn vị quản lý": PROVINCE,
                        "Tình trạng": "đương chức" if status == "active" else "nghỉ hưu",
                        "Từ ngày": since.strftime("%d/%m/%Y"),
                        "Đơn vị cư trú": DALAT if dalat_retiree else f"VN.68.{rng.randrange(673, 684)}",
                        # the test's own bookkeeping, not columns of the file
                        "_tier": tier,
                        "_status": status,
                        "_index": i,
                        "_dalat": dalat_retiree,
                    }
                )
    return rows


def csv_of(rows: list[dict[str, Any]]) -> bytes:
    columns = [c for c in rows[0] if not c.startswith("_")]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def record(kind: str, external_id: str, national_id: str, day: date, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "external_id": external_id, "national_id": national_id, "occurred_on": day.isoformat(), **fields}


def coded(code: str) -> dict[str, str]:
    return {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": code}


# --- calls ----------------------------------------------------------------------------------------------


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, (
        f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text[:2000]}"
    )
    return answer.json()


def paged(client: httpx.Client, path: str, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = ok(client.get(path, params={**params, "offset": len(items), "limit": limit}))
        items += page["items"]
        if len(items) >= page["total"] or not page["items"]:
            return items


def post_bulk(his: httpx.Client, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 1000):
        part = items[start : start + 1000]
        result = ok(his.post(CLINICAL, json={"items": part}))
        refused = [i for i in result["items"] if i["outcome"] != "created"]
        assert not refused, refused[:3]
        assert result["counts"] == {"created": len(part)}


def clinical_knows_everyone(his: httpx.Client, national_ids: list[str]) -> bool:
    """The HIS's own view: a dry run refuses a cadre only while clinical has not heard of them yet."""
    for start in range(0, len(national_ids), 1000):
        probes = [record("outpatient_visit", f"probe-{n}", n, END) for n in national_ids[start : start + 1000]]
        answer = his.post(CLINICAL, json={"items": probes, "validate_only": True}).json()
        if answer["counts"].get("created", 0) != len(probes):
            return False
    return True


def rules_and_plan(client: httpx.Client, board_unit: str, rules: list[dict[str, Any]], plan: dict[str, Any]) -> dict[str, Any]:
    rule_set = ok(client.post(f"{SCHED}/cadence-rules", json={"board_unit": board_unit, "year": 2023, "rules": rules}), 201)
    created = ok(
        client.post(f"{SCHED}/plans", json={"board_unit": board_unit, "year": 2023, "rule_set_id": rule_set["id"], **plan}), 201
    )
    generated = ok(client.post(f"{SCHED}/plans/{created['id']}/generate"))
    assert generated["invited"] > 0
    return created


def board_report(board: httpx.Client) -> dict[str, Any]:
    return ok(board.get("/api/v1/reporting/reports/board", params={"unit": PROVINCE, "kind": "six_monthly", **PERIOD}))


# --- the test -------------------------------------------------------------------------------------------


def test_seed003_through_the_public_apis_reproduces_the_six_monthly_report(
    stack: Stack, admin: httpx.Client, board: httpx.Client, central: httpx.Client, his: httpx.Client
) -> None:
    started = time.monotonic()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        phases[name] = round(time.monotonic() - started - sum(phases.values()), 1)

    rng = random.Random(2023)

    # 1. the registry: the board imports its list
    rows = roster(rng)
    assert len(rows) == 1380
    imported = ok(
        board.post(
            "/api/v1/registry/cadres/import",
            params={"dry_run": "false"},
            content=csv_of(rows),
            headers={"content-type": "text/csv; charset=utf-8"},
        )
    )
    assert (imported["imported"], imported["valid_rows"]) == (1380, 1380), imported["rows"][:3]
    listed = paged(board, "/api/v1/registry/cadres", {"unit": PROVINCE}, 200)
    id_of = {c["national_id"]: c["id"] for c in listed}
    assert len(id_of) == 1380
    for row in rows:
        row["id"] = id_of[row["Số CCCD"]]

    def group(tier: str, status: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["_tier"] == tier and r["_status"] == status]

    eventually(lambda: ok(board.get(f"{SCHED}/roster/summary"))["cadres"] == 1380, timeout=120, interval=1)
    eventually(lambda: clinical_knows_everyone(his, [r["Số CCCD"] for r in rows]), timeout=120, interval=1)
    phase("registry import, roster reached scheduling and clinical")

    # 2. scheduling: Kế hoạch 138-KH of the provincial board (dated 08/02/2023) and 58-KH of the Southern council
    facility = {"code": "68-BVDK", "name": "Bệnh viện Đa khoa tỉnh Lâm Đồng", "daily_capacity": 60}
    provincial_plan = rules_and_plan(
        board,
        PROVINCE,
        [
            {"tier": "provincial_1", "status": "active", "exams_per_year": 2},
            {"tier": "provincial_1", "status": "retired", "exams_per_year": 2},
            {"tier": "provincial_2", "status": "active", "exams_per_year": 1},
            {"tier": "provincial_2", "status": "retired", "exams_per_year": 1},
            {"tier": "provincial_3", "status": "active", "exams_per_year": 1},
        ],
        {
            "title": "Kế hoạch 138-KH/BBVCSSKCB khám sức khỏe định kỳ năm 2023",
            "plan_date": "2023-02-08",
            "facilities": [facility],
            "rounds": [
                {
                    "number": 1,
                    "starts_on": "2023-03-01",
                    "ends_on": "2023-05-31",
                    "groups": [
                        {"tier": "provincial_2", "facility": "68-BVDK"},
                        {"tier": "provincial_3", "status": "active", "facility": "68-BVDK"},
                    ],
                },
                {  # group 1's first round: "cuối tháng 6/2023", after the report's period
                    "number": 2,
                    "starts_on": "2023-06-20",
                    "ends_on": "2023-06-30",
                    "groups": [{"tier": "provincial_1", "facility": "68-BVDK"}],
                },
                {
                    "number": 3,
                    "starts_on": "2023-11-01",
                    "ends_on": "2023-11-30",
                    "groups": [{"tier": "provincial_1", "facility": "68-BVDK"}],
                },
            ],
        },
    )
    central_plan = rules_and_plan(
        central,
        "VN",
        [
            {"tier": "central", "status": "active", "exams_per_year": 2},
            {"tier": "central", "status": "retired", "exams_per_year": 2},
        ],
        {
            "title": "Kế hoạch 58-KH/HĐBVSKCBMN khám sức khỏe định kỳ đợt 1 năm 2023",
            "plan_date": "2023-01-30",
            "facilities": [{"code": "BV-THONGNHAT", "name": "Bệnh viện Thống Nhất", "daily_capacity": 50}],
            "rounds": [
                {
                    "number": 1,
                    "starts_on": "2023-03-01",
                    "ends_on": "2023-03-01",
                    "groups": [{"tier": "central", "facility": "BV-THONGNHAT"}],
                }
            ],
        },
    )

    in_plan = {r["id"] for r in group("provincial_2", "active")} | {
        r["id"] for r in group("provincial_3", "active") if r["_index"] < 112
    }
    dalat_retirees = {r["id"] for r in group("provincial_2", "retired") if r["_dalat"]}
    assert (len(in_plan), len(dalat_retirees)) == (193, 235)
    invitations = paged(board, f"{SCHED}/invitations", {"plan_id": provincial_plan["id"]}, 200)
    first_round = [i for i in invitations if i["round_number"] == 1]
    assert all(START <= date.fromisoformat(i["appointment_date"]) <= END for i in first_round)
    assert sum(1 for i in invitations if i["round_number"] == 2) == 54  # group 1: after 31/5, outside the report
    kept = [i for i in first_round if i["cadre_id"] in in_plan | dalat_retirees]
    assert len(kept) == 193 + 235
    for invitation in first_round:
        if invitation["cadre_id"] not in in_plan | dalat_retirees:  # examined under a district board's plan
            ok(
                board.post(
                    f"{SCHED}/invitations/{invitation['id']}/status",
                    json={
                        "status": "cancelled",
                        "note": "khám theo kế hoạch phân cấp của Ban BVSKCB huyện",
                        "effective_date": "2023-02-20",
                    },
                )
            )

    phase("plans, generation, cancellations")

    # 3. clinical: the hospital's HIS posts the exam results, then the rest of the period's activity
    national_id = {r["id"]: r["Số CCCD"] for r in rows}
    attending = rng.sample([i for i in kept if i["cadre_id"] in in_plan], 142)
    attending += rng.sample([i for i in kept if i["cadre_id"] in dalat_retirees], 143)
    codes = [code for code, n in CLASSES.items() for _ in range(n)]
    rng.shuffle(codes)
    exams = [
        record(
            "periodic_exam",
            f"KSK-2023-{n:05d}",
            national_id[i["cadre_id"]],
            date.fromisoformat(i["appointment_date"]),
            plan_id=provincial_plan["id"],
            round_id=i["round_id"],
            classification=coded(code),
            diagnoses=[{"code": "I10"}] if code in ("B2", "C") else [],
        )
        for n, (i, code) in enumerate(zip(attending, codes, strict=True))
    ]
    central_invitations = paged(central, f"{SCHED}/invitations", {"plan_id": central_plan["id"]}, 200)
    assert len(central_invitations) == 13
    actives = [i for i in central_invitations if i["cadre_status"] == "active"]
    retirees = [i for i in central_invitations if i["cadre_status"] == "retired"]
    central_codes = [code for code, n in CENTRAL_CLASSES.items() for _ in range(n)]
    exams += [
        record(
            "periodic_exam",
            f"KSK-TW-2023-{n:02d}",
            national_id[i["cadre_id"]],
            date(2023, 3, 1),
            plan_id=central_plan["id"],
            round_id=i["round_id"],
            classification=coded(code),
        )
        for n, (i, code) in enumerate(zip(actives + retirees[:5], central_codes, strict=True))
    ]
    for invitation in retirees[5:]:  # "05 đồng chí nguyên chức do điều kiện sức khỏe chưa khám"
        ok(
            central.post(
                f"{SCHED}/invitations/{invitation['id']}/status",
                json={"status": "deferred", "reason": "ill", "effective_date": "2023-03-01"},
            )
        )
    everyone = [r["Số CCCD"] for r in rows]
    frail = [r["Số CCCD"] for r in rows if r["_status"] == "retired" and r["_tier"] in ("central", "provincial_1")]
    span = (END - START).days

    def day() -> date:
        return START + timedelta(days=rng.randrange(span + 1))

    activity = [
        record(
            "outpatient_visit",
            f"NGT-2023-{n:05d}",
            rng.choice(everyone),
            day(),
            department="Phòng khám cán bộ",
            diagnoses=[{"code": rng.choice(["I10", "E11.9", "J44.1", "K29.7", "M54.5"])}],
        )
        for n in range(OUTPATIENT)
    ]
    activity += [
        record("admission", f"NT-2023-{n:04d}", rng.choice(everyone), day(), ward="Phòng nội A") for n in range(ADMISSIONS)
    ]
    activity += [
        record(
            "referral",
            f"CV-2023-{n:03d}",
            rng.choice(everyone),
            day(),
            referral_kind=kind,
            to_facility="Bệnh viện Thống Nhất" if kind == "higher_level" else "Bệnh viện II Lâm Đồng",
            decided_by="Hội đồng chuyên môn Ban BVCSSKCB tỉnh",
        )
        for n, kind in enumerate(["higher_level"] * HIGHER_LEVEL + ["in_province"] * IN_PROVINCE)
    ]
    activity += [
        record("home_visit", f"TN-2023-{n:03d}", rng.choice(frail), day(), visited_by=["BS. Nguyễn Thị Lan"])
        for n in range(HOME_VISITS)
    ]
    post_bulk(his, exams)
    post_bulk(his, activity)
    phase("HIS bulk posts")

    # 4. the board's six-monthly report, once every event has reached reporting
    def settled() -> dict[str, Any] | None:
        report = board_report(board)
        examined = sum(r["examined"] for r in report["coverage"]["by_plan"])
        invited = sum(r["invited"] for r in report["coverage"]["by_plan"])
        done = (
            report["cadres"]["total"] == 1380
            and report["activity"]["outpatient_visits"] == OUTPATIENT
            and report["activity"]["home_visits"] == HOME_VISITS
            and report["classification"]["total"] == 285 + 8
            and (invited, examined) == (193 + 235 + 13, 285 + 8)
        )
        return report if done else None

    report = eventually(settled, timeout=180, interval=1)
    phase("reporting caught up")
    print(f"seed 003 scenario phases (s): {phases}")

    # 1.1 Đặc điểm tình hình: 1,380 as of 31/5/2023, up 6 since the end of 2022
    cadres = report["cadres"]
    assert (cadres["as_of"], cadres["total"], cadres["compared_with"], cadres["total_then"], cadres["change"]) == (
        "2023-05-31",
        1380,
        "2022-12-31",
        1374,
        6,
    )
    split = {(r["tier"], r["status"]): r["count"] for r in cadres["rows"]}
    assert split == {
        (tier, status): n for tier, pair in SPLIT.items() for status, n in zip(("active", "retired"), pair, strict=True)
    }
    assert split[("provincial_3", "retired")] == 510  # the seed says 501, which would make its group 3 767, not 776
    assert sum(n for (tier, _), n in split.items() if tier != "central") == 1367  # "1.367" (the seed's parts: 1,358)
    assert (cadres["active"], cadres["retired"]) == (3 + 15 + 81 + 266, 10 + 39 + 456 + 510)

    # periodic exams: 142/193 active groups 2-3 (73.57%), 143/235 retired group 2 in Đà Lạt (60.85%), 8/13 central
    coverage = report["coverage"]
    by_group = {(r["board_unit"], r["tier"], r["status"]): r for r in coverage["by_group"]}
    active_2_3 = [by_group[(PROVINCE, tier, "active")] for tier in ("provincial_2", "provincial_3")]
    invited, examined = sum(r["invited"] for r in active_2_3), sum(r["examined"] for r in active_2_3)
    assert (examined, invited, (10000 * examined // invited) / 100) == (142, 193, 73.57)
    retired_2 = by_group[(PROVINCE, "provincial_2", "retired")]
    assert (retired_2["examined"], retired_2["invited"], retired_2["rate"]) == (143, 235, 60.85)
    by_plan = {r["board_unit"]: r for r in coverage["by_plan"]}
    assert (by_plan["VN"]["examined"], by_plan["VN"]["invited"]) == (8, 13)
    assert (by_plan[PROVINCE]["examined"], by_plan[PROVINCE]["invited"]) == (285, 428)
    assert not any(r["tier"] == "provincial_1" for r in coverage["by_group"])  # group 1's round is in late June

    # scheduling's own coverage of the plan agrees with reporting's
    scheduled = ok(board.get(f"{SCHED}/coverage", params={"plan_id": provincial_plan["id"], "by": ["round"]}))
    first = next(r for r in scheduled["rows"] if r["round"] == 1)
    assert (first["attended"], first["invited"], first["cancelled"]) == (285, 428, len(first_round) - 428)

    # classification: A 63, B1 109, B2 82, C 31 (provincial plan); B1 2, B2 6 (central tier at Thống Nhất)
    by_tier = report["classification"]["by_tier"]
    provincial_classes: dict[str, int] = {}
    for tier in ("provincial_2", "provincial_3"):
        for row in by_tier[tier]:
            provincial_classes[row["code"]] = provincial_classes.get(row["code"], 0) + row["count"]
    assert provincial_classes == {**CLASSES, "D": 0}
    assert {r["code"]: r["count"] for r in by_tier["central"] if r["count"]} == CENTRAL_CLASSES
    assert {r["code"]: r["count"] for r in report["classification"]["rows"]} == {"A": 63, "B1": 111, "B2": 88, "C": 31, "D": 0}

    # outpatient 3,289; inpatient 188; referrals 12 higher level + 26 in province; home visits 45
    counted = report["activity"]
    assert (counted["period_start"], counted["period_end"]) == ("2023-01-01", "2023-05-31")
    assert (counted["outpatient_visits"], counted["admissions"], counted["home_visits"]) == (3289, 188, 45)
    assert (counted["referrals_higher_level"], counted["referrals_in_province"], counted["referrals_abroad"]) == (12, 26, 0)
    assert (counted["referrals_total"], counted["periodic_exams"]) == (38, 293)
    summary = ok(board.get("/api/v1/reporting/summary", params={"unit": PROVINCE, **PERIOD}))
    assert [p["month"] for p in summary["monthly"]] == ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05"]
    assert sum(p["outpatient_visits"] for p in summary["monthly"]) == 3289
    assert sum(p["periodic_exams"] for p in summary["monthly"]) == 293

    # chronic conditions come from the records' diagnoses; convalescence has no trip in this period and says so
    assert report["chronic"]["has_data"] is True
    # the scenario posts no convalescence trip (the seed's "06/14" registrations are not in this period's API feed)
    assert report["convalescence"]["has_data"] is False
    assert "No convalescence trip starts in this period" in report["convalescence"]["note"]

    # the report checks its own arithmetic, and every check holds
    assert report["consistent"] is True and report["checks"] and all(c["consistent"] for c in report["checks"])
    assert report["title"].startswith("Báo cáo kết quả công tác bảo vệ, chăm sóc sức khỏe cán bộ 6 tháng đầu năm 2023")

    # the same report downloads as XLSX
    xlsx = board.get("/api/v1/reporting/reports/board", params={"unit": PROVINCE, "format": "xlsx", **PERIOD})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert time.monotonic() - started < 600
