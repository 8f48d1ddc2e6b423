"""Reporting's API on SQLite and PostgreSQL, fed with events through the consumer kit, called as the gateway calls it."""

import io
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import select

from contracts.codesystems import HEALTH_CLASSIFICATION_1266, CodedValue
from contracts.enums import Action, CadreStatus, EncounterKind, ManagementTier, ReferralKind, Sex, UnitLevel
from contracts.events.clinical import ClinicalRecordAmended, ClinicalRecordRecorded, ClinicalRecordWithdrawn, RecordSummary
from contracts.events.registry import CadreRegistered, CadreRetired, CadreSnapshot, UnitCreated, UnitSnapshot, UnitsReorganized
from contracts.events.scheduling import ExamPlanPublished, InvitationIssued, InvitationStatusChanged, RoundSnapshot
from contracts.scope import Grant, Principal, PrincipalKind
from reporting import rollup
from reporting.app import create_app
from reporting.feed import EventFeed
from reporting.rebuild import rebuild
from reporting.settings import ReportingSettings
from reporting.tables import KIT
from servicekit import migrations
from servicekit.broker import Broker
from servicekit.db import Database
from servicekit.embedded import TansuBroker

Sign = Callable[[Principal], dict[str, str]]
ALL = frozenset(ManagementTier)
PERMS = frozenset({"reporting.read"})
RW = frozenset({Action.READ, Action.WRITE})
PROVINCIAL = frozenset(
    {ManagementTier.PROVINCIAL_1, ManagementTier.PROVINCIAL_2, ManagementTier.PROVINCIAL_3, ManagementTier.CENTRAL}
)

ADMIN = Principal(
    subject="user:admin",
    kind=PrincipalKind.ADMIN,
    permissions=PERMS,
    grants=(Grant(unit_path="VN", tiers=ALL, actions=RW | {Action.AGGREGATE}),),
)
LAMDONG = Principal(
    subject="user:lamdong",
    kind=PrincipalKind.STAFF,
    permissions=PERMS,
    grants=(
        Grant(unit_path="VN.68", tiers=PROVINCIAL | {ManagementTier.TREATMENT_ONLY}, actions=RW),
        Grant(unit_path="VN.68", tiers=frozenset({ManagementTier.DISTRICT}), actions=frozenset({Action.READ})),
    ),
)
DALAT = Principal(
    subject="user:dalat",
    kind=PrincipalKind.STAFF,
    permissions=PERMS,
    grants=(Grant(unit_path="VN.68.672", tiers=frozenset({ManagementTier.DISTRICT, ManagementTier.TREATMENT_ONLY}), actions=RW),),
)
CENTRAL = Principal(
    subject="user:central",
    kind=PrincipalKind.STAFF,
    permissions=PERMS,
    grants=(
        Grant(unit_path="VN", tiers=frozenset({ManagementTier.CENTRAL}), actions=RW),
        Grant(unit_path="VN", tiers=ALL, actions=frozenset({Action.AGGREGATE})),
    ),
)
NOBODY = Principal(subject="user:his", kind=PrincipalKind.HIS, permissions=frozenset({"clinical.write"}))

PERIOD = {"period_start": "2023-01-01", "period_end": "2023-06-30"}


def unit(path: str, name: str, level: UnitLevel) -> UnitSnapshot:
    parent = path.rpartition(".")[0] or None
    return UnitSnapshot(
        path=path, code=path.rpartition(".")[2], name=name, level=level, parent_path=parent, valid_from=date(2000, 1, 1)
    )


UNITS = [
    unit("VN", "Việt Nam", UnitLevel.NATION),
    unit("VN.68", "Tỉnh Lâm Đồng", UnitLevel.PROVINCE),
    unit("VN.68.672", "Thành phố Đà Lạt", UnitLevel.DISTRICT),
    unit("VN.68.673", "Thành phố Bảo Lộc", UnitLevel.DISTRICT),
    unit("VN.52", "Tỉnh Bình Định", UnitLevel.PROVINCE),
]


def snapshot(unit_path: str, tier: ManagementTier, status: CadreStatus, since: date) -> CadreSnapshot:
    return CadreSnapshot(
        id=uuid.uuid4(),
        full_name="Nguyễn Văn Thử",
        date_of_birth=date(1960, 1, 1),
        sex=Sex.MALE,
        national_id="068060000000",
        tier=tier,
        status=status,
        status_since=since,
        managing_unit=unit_path,
    )


@dataclass
class World:
    http: httpx.AsyncClient
    feed: EventFeed
    database_url: str
    sign: Sign
    p2: list[CadreSnapshot]
    district: list[CadreSnapshot]


async def record(feed: EventFeed, cadre: CadreSnapshot, kind: EncounterKind, day: date, **fields: Any) -> RecordSummary:
    summary = RecordSummary(
        record_id=uuid.uuid4(),
        version=1,
        kind=kind,
        cadre_id=cadre.id,
        facility="68-BVDK",
        external_id=uuid.uuid4().hex,
        occurred_on=day,
        **fields,
    )
    await feed.send(
        ClinicalRecordRecorded(record=summary), subject=str(cadre.id), managing_unit=cadre.managing_unit, tier=cadre.tier
    )
    return summary


def classified(code: str) -> CodedValue:
    return CodedValue(system=HEALTH_CLASSIFICATION_1266.system, version=HEALTH_CLASSIFICATION_1266.version, code=code)


async def seed(feed: EventFeed) -> tuple[list[CadreSnapshot], list[CadreSnapshot]]:
    for u in UNITS:
        await feed.send(UnitCreated(unit=u), subject=u.path)
    p2 = [snapshot("VN.68", ManagementTier.PROVINCIAL_2, CadreStatus.ACTIVE, date(2020, 1, 1)) for _ in range(12)]
    p1 = [snapshot("VN.68", ManagementTier.PROVINCIAL_1, CadreStatus.ACTIVE, date(2019, 1, 1)) for _ in range(2)]
    district = [snapshot("VN.68.672", ManagementTier.DISTRICT, CadreStatus.RETIRED, date(2015, 1, 1)) for _ in range(4)]
    district.append(snapshot("VN.68.672", ManagementTier.DISTRICT, CadreStatus.ACTIVE, date(2023, 2, 1)))  # new in 2023
    binh_dinh = [snapshot("VN.52", ManagementTier.PROVINCIAL_3, CadreStatus.ACTIVE, date(2018, 1, 1)) for _ in range(11)]
    central = [snapshot("VN.52", ManagementTier.CENTRAL, CadreStatus.RETIRED, date(2016, 1, 1))]
    for cadre in (*p2, *p1, *district, *binh_dinh, *central):
        await feed.send(CadreRegistered(cadre=cadre), subject=str(cadre.id))
    for cadre in p2[:3]:
        retired = cadre.model_copy(update={"status": CadreStatus.RETIRED, "status_since": date(2023, 3, 1)})
        await feed.send(CadreRetired(cadre=retired, effective_date=date(2023, 3, 1)), subject=str(cadre.id))

    plan, round_id = uuid.uuid4(), uuid.uuid4()
    rounds = [RoundSnapshot(id=round_id, number=1, starts_on=date(2023, 3, 1), ends_on=date(2023, 6, 30))]
    await feed.send(ExamPlanPublished(plan_id=plan, board_unit="VN.68", year=2023, title="Kế hoạch 138-KH", rounds=rounds))
    outcomes = ["attended"] * 9 + ["no_show", "no_show", "cancelled"]
    for cadre, outcome in zip(p2, outcomes, strict=True):
        invitation = uuid.uuid4()
        await feed.send(
            InvitationIssued(
                invitation_id=invitation,
                plan_id=plan,
                round_id=round_id,
                cadre_id=cadre.id,
                tier=cadre.tier,
                managing_unit="VN.68",
                facility="68-BVDK",
                appointment_date=date(2023, 4, 10),
            ),
            subject=str(invitation),
        )
        await feed.send(
            InvitationStatusChanged(
                invitation_id=invitation,
                plan_id=plan,
                round_id=round_id,
                cadre_id=cadre.id,
                previous_status="invited",
                status=outcome,
                effective_date=date(2023, 4, 10),
            ),
            subject=str(invitation),
        )
    codes = ["A", "A", "A", "B1", "B1", "B1", "B1", "C", "C"]
    exams = []
    for cadre, code in zip(p2, codes, strict=False):
        exams.append(
            await record(
                feed,
                cadre,
                EncounterKind.PERIODIC_EXAM,
                date(2023, 4, 10),
                plan_id=plan,
                round_id=round_id,
                classification=classified(code),
            )
        )
    amended = exams[6].model_copy(update={"version": 2, "classification": classified("B2")})
    await feed.send(
        ClinicalRecordAmended(record=amended, previous_version=1),
        subject=str(amended.cadre_id),
        managing_unit="VN.68",
        tier=ManagementTier.PROVINCIAL_2,
    )
    mistaken = await record(feed, p2[9], EncounterKind.PERIODIC_EXAM, date(2023, 4, 11), classification=classified("A"))
    await feed.send(
        ClinicalRecordWithdrawn(record=mistaken, reason="wrong patient"),
        subject=str(mistaken.cadre_id),
        managing_unit="VN.68",
        tier=ManagementTier.PROVINCIAL_2,
    )

    for day in (date(2023, 2, 3), date(2023, 2, 20)):
        await record(feed, p2[0], EncounterKind.OUTPATIENT_VISIT, day, diagnoses=["I10"])
    for cadre in p2[1:4]:
        await record(feed, cadre, EncounterKind.OUTPATIENT_VISIT, date(2023, 3, 5), diagnoses=["I10"] if cadre is p2[1] else [])
    await record(feed, p2[2], EncounterKind.ADMISSION, date(2023, 3, 7), ended_on=date(2023, 3, 12), diagnoses=["I11", "E11"])
    await record(feed, p2[3], EncounterKind.ADMISSION, date(2023, 5, 1), diagnoses=["E11.9"])
    await record(feed, p2[3], EncounterKind.REFERRAL, date(2023, 5, 2), referral_kind=ReferralKind.HIGHER_LEVEL)
    for cadre in p2[4:6]:
        await record(feed, cadre, EncounterKind.REFERRAL, date(2023, 5, 3), referral_kind=ReferralKind.IN_PROVINCE)
    await record(feed, district[0], EncounterKind.HOME_VISIT, date(2023, 6, 1), at_home=True)
    for cadre in binh_dinh:
        await record(feed, cadre, EncounterKind.PERIODIC_EXAM, date(2023, 5, 15), classification=classified("A"))
    await record(feed, central[0], EncounterKind.PERIODIC_EXAM, date(2023, 5, 15), classification=classified("C"))
    return p2, district


@pytest.fixture
async def world(database_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path, sign_as: Sign) -> AsyncIterator[World]:
    migrations.upgrade("reporting", database_url)
    settings = ReportingSettings(
        database_url=database_url, data_dir=tmp_path, internal_public_key_file=internal_keys[1], min_cell_size=10
    )
    app = create_app(settings, run_workers=False)
    feed = EventFeed(app.state.runtime.db)
    p2, district = await seed(feed)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as http:
        yield World(http, feed, database_url, sign_as, p2, district)
    await app.state.runtime.db.dispose()


async def summary(world: World, principal: Principal, unit_path: str, **params: str) -> httpx.Response:
    return await world.http.get("/summary", params={"unit": unit_path, **PERIOD, **params}, headers=world.sign(principal))


async def test_dashboard_figures_for_a_province(world: World) -> None:
    answer = await summary(world, ADMIN, "VN.68")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    cadres = body["cadres"]
    assert (cadres["as_of"], cadres["total"], cadres["active"], cadres["retired"]) == ("2023-06-30", 19, 12, 7)
    assert (cadres["compared_with"], cadres["total_then"], cadres["change"]) == ("2022-12-31", 18, 1)
    p2_rows = {r["status"]: r["count"] for r in cadres["rows"] if r["tier"] == "provincial_2"}
    assert p2_rows == {"active": 9, "retired": 3}
    coverage = body["coverage"]
    assert [(r["invited"], r["examined"], r["rate"]) for r in coverage["by_plan"]] == [
        (11, 9, 81.81)
    ]  # 9/11 = 81.818...: cut, as the boards write it
    groups = {(r["tier"], r["status"]): (r["invited"], r["examined"]) for r in coverage["by_group"]}
    assert groups == {("provincial_2", "active"): (8, 6), ("provincial_2", "retired"): (3, 3)}
    classes = {r["code"]: r["count"] for r in body["classification"]["rows"]}
    assert classes == {"A": 3, "B1": 3, "B2": 1, "C": 2, "D": 0}  # amended B1 -> B2; the withdrawn exam counts nowhere
    assert body["classification"]["total"] == 9
    activity = body["activity"]
    assert (activity["outpatient_visits"], activity["admissions"], activity["home_visits"]) == (5, 2, 1)
    assert (activity["referrals_higher_level"], activity["referrals_in_province"], activity["referrals_total"]) == (1, 2, 3)
    months = {p["month"]: p["outpatient_visits"] for p in body["monthly"]}
    assert months == {"2023-01": 0, "2023-02": 2, "2023-03": 3, "2023-04": 0, "2023-05": 0, "2023-06": 0}
    chronic = {r["group"]: r["cadres"] for r in body["chronic"]["rows"]}
    assert (chronic["hypertension"], chronic["diabetes"], chronic["cancer"]) == (3, 2, 0)
    assert {r["conditions"]: r["cadres"] for r in body["chronic"]["comorbidity"]} == {"1": 3, "2": 1, "3+": 0}
    assert body["has_data"] is True and body["aggregate_only"] is False

    as_of_march = (await summary(world, ADMIN, "VN.68", period_start="2023-01-01", period_end="2023-02-28")).json()
    assert as_of_march["cadres"]["retired"] == 4  # the three retirements hold from 1 March


async def test_redelivered_events_change_nothing(world: World) -> None:
    before = (await summary(world, ADMIN, "VN.68")).json()
    await world.feed.redeliver_all()
    after = (await summary(world, ADMIN, "VN.68")).json()
    before.pop("generated_at"), after.pop("generated_at")
    assert after == before


async def test_scope_a_district_sees_its_district_and_the_centre_sees_suppressed_aggregates(world: World) -> None:
    dalat = (await summary(world, DALAT, "VN.68.672")).json()
    assert dalat["cadres"]["total"] == 5 and dalat["activity"]["home_visits"] == 1
    wider = (await summary(world, DALAT, "VN.68")).json()
    assert wider["cadres"]["total"] == 5 and wider["activity"]["outpatient_visits"] == 0  # only its district's rows
    assert (await summary(world, DALAT, "VN.52")).status_code == 404
    assert (await summary(world, LAMDONG, "VN.52")).status_code == 404
    lamdong = (await summary(world, LAMDONG, "VN.68")).json()
    assert lamdong["cadres"]["total"] == 19 and lamdong["aggregate_only"] is False

    central = (await summary(world, CENTRAL, "VN.52")).json()
    assert central["aggregate_only"] is True and central["cadres"]["total"] == 12
    by_tier = central["classification"]["by_tier"]
    assert [r["count"] for r in by_tier["central"] if r["code"] == "C"] == [None]  # one cadre: suppressed
    assert [r["count"] for r in by_tier["provincial_3"] if r["code"] == "A"] == [11]
    assert (await world.http.get("/summary", params={"unit": "VN.68"}, headers=world.sign(NOBODY))).status_code == 403
    assert (await world.http.get("/summary", params={"unit": "VN.68"})).status_code == 401


async def test_bad_input_gets_clear_errors_and_empty_periods_say_so(world: World) -> None:
    unknown = await summary(world, ADMIN, "VN.99")
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["loc"] == ["query", "unit"]
    reversed_period = await summary(world, ADMIN, "VN.68", period_start="2023-06-30", period_end="2023-01-01")
    assert reversed_period.status_code == 422 and reversed_period.json()["code"] == "invalid_period"
    assert reversed_period.json()["errors"][0]["loc"] == ["query", "period_end"]
    future = await world.http.get("/summary", params={"unit": "VN.68", "as_of": "2999-01-01"}, headers=world.sign(ADMIN))
    assert future.status_code == 422 and future.json()["errors"][0]["loc"] == ["query", "as_of"]
    malformed = await summary(world, ADMIN, "VN.68", period_start="yesterday")
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["loc"] == ["query", "period_start"]
    empty = (await summary(world, ADMIN, "VN.68", period_start="2010-01-01", period_end="2010-06-30")).json()
    assert empty["has_data"] is False and "No data" in empty["message"]
    assert empty["classification"]["has_data"] is False and empty["activity"]["has_data"] is False
    report = (
        await world.http.get(
            "/reports/board",
            params={"unit": "VN.68", "period_start": "2010-01-01", "period_end": "2010-06-30"},
            headers=world.sign(ADMIN),
        )
    ).json()
    assert report["has_data"] is False and "Không có dữ liệu" in report["message"]


async def test_six_monthly_report_checks_itself_and_downloads_as_xlsx_and_pdf(world: World) -> None:
    params = {"unit": "VN.68", "kind": "six_monthly", **PERIOD}
    report = (await world.http.get("/reports/board", params=params, headers=world.sign(LAMDONG))).json()
    assert report["consistent"] is True and len(report["checks"]) >= 10
    assert all(c["consistent"] and c["total"] == c["parts_sum"] for c in report["checks"])
    assert report["title"].startswith("Báo cáo kết quả công tác bảo vệ, chăm sóc sức khỏe cán bộ 6 tháng đầu năm 2023")
    assert report["cadres"]["as_of"] == "2023-06-30" and report["activity"]["period_start"] == "2023-01-01"
    assert report["convalescence"]["has_data"] is False

    xlsx = await world.http.get("/reports/board", params={**params, "format": "xlsx"}, headers=world.sign(LAMDONG))
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Báo cáo"]
    cells = [row for row in sheet.iter_rows(values_only=True)]
    assert tuple(next(r for r in cells if r[0] == "Tổng cộng")[:4]) == ("Tổng cộng", 12, 7, 19)
    assert any(r[0] == "Khám ngoại trú, cấp đơn" and r[1] == 5 for r in cells)
    assert any(r[0] == "Loại B2" and r[1] == 1 for r in cells)
    pdf = await world.http.get("/reports/board", params={**params, "format": "pdf"}, headers=world.sign(LAMDONG))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    assert b"DejaVu" in pdf.content  # the Vietnamese font is embedded


async def test_national_rollup_suppresses_small_cells_and_maps_onto_todays_units(world: World) -> None:
    params = {**PERIOD, "basis": "as_then"}
    rolled = (await world.http.get("/aggregation/national", params=params, headers=world.sign(CENTRAL))).json()
    provinces = {p["province"]: p["cells"] for p in rolled["provinces"]}
    assert set(provinces) == {"VN.68", "VN.52"}
    for cells in [*provinces.values(), rolled["national"]["cells"]]:
        shown = [c["value"] for c in cells.values() if not c["suppressed"]]
        assert all(v == 0 or v >= 10 for v in shown)  # nothing resting on fewer than ten cadres is shown
    assert provinces["VN.68"]["cadres_total"]["value"] == 19 and provinces["VN.68"]["cadres_provincial_1"]["suppressed"]
    assert provinces["VN.52"]["cadres_central"]["suppressed"] and provinces["VN.52"]["cadres_provincial_3"]["suppressed"]
    assert provinces["VN.52"]["class_A"]["suppressed"]  # secondary: else C = 12 - 11
    assert rolled["national"]["cells"]["cadres_total"]["value"] == 31

    merged = UnitSnapshot(
        path="VN.64",
        code="64",
        name="Tỉnh Gia Lai (mới)",
        level=UnitLevel.PROVINCE,
        parent_path="VN",
        valid_from=date(2025, 7, 1),
    )
    gone = UNITS[4].model_copy(update={"valid_to": date(2025, 6, 30)})
    await world.feed.send(
        UnitsReorganized(
            kind="merge",
            effective_date=date(2025, 7, 1),
            retired_units=[gone],
            created_units=[merged],
            mapping={"VN.52": ["VN.64"]},
            moved_cadres=0,
        )
    )
    today = (
        await world.http.get("/aggregation/national", params={**PERIOD, "basis": "today"}, headers=world.sign(CENTRAL))
    ).json()
    assert {p["province"]: p["name"] for p in today["provinces"]} == {"VN.68": "Tỉnh Lâm Đồng", "VN.64": "Tỉnh Gia Lai (mới)"}
    assert {
        p["province"]
        for p in (await world.http.get("/aggregation/national", params=params, headers=world.sign(CENTRAL))).json()["provinces"]
    } == {"VN.68", "VN.52"}

    lamdong_only = (await world.http.get("/aggregation/national", params=params, headers=world.sign(LAMDONG))).json()
    assert [p["province"] for p in lamdong_only["provinces"]] == ["VN.68"]  # scope applies to aggregates too
    wrong = await world.http.get(
        "/aggregation/national", params={"period_start": "2023-06-30", "period_end": "2023-01-01"}, headers=world.sign(CENTRAL)
    )
    assert wrong.status_code == 422


async def test_rollup_job_writes_the_same_figures(world: World, tmp_path: Path) -> None:
    out = tmp_path / "rollup.json"
    args = [
        "--database-url",
        world.database_url,
        "--start",
        "2023-01-01",
        "--end",
        "2023-06-30",
        "--min-cell-size",
        "10",
        "--output",
        str(out),
    ]
    await _in_thread(lambda: rollup.main(args))
    job = json.loads(out.read_text())
    endpoint = (await world.http.get("/aggregation/national", params=PERIOD, headers=world.sign(CENTRAL))).json()
    assert job["provinces"] == endpoint["provinces"] and job["national"] == endpoint["national"]


async def test_rebuild_from_the_broker_gives_identical_figures(world: World, kafka_broker: TansuBroker) -> None:
    """The fed events, published on a real broker as the relay would; rebuild empties the read models and replays them."""
    queries = [
        ("/summary", {"unit": "VN.68", **PERIOD}),
        ("/summary", {"unit": "VN.68.672", **PERIOD}),
        ("/reports/board", {"unit": "VN", **PERIOD}),
        ("/aggregation/national", {**PERIOD, "basis": "today"}),
    ]

    async def figures() -> list[Any]:
        answers = [(await world.http.get(path, params=params, headers=world.sign(ADMIN))).json() for path, params in queries]
        for answer in answers:
            answer.pop("generated_at")
        return answers

    before = await figures()
    broker = Broker(kafka_broker.bootstrap, client_id="reporting-test")
    db = Database(world.database_url)
    try:
        producer = await broker.producer()
        for sent in world.feed.sent:
            await producer.send_and_wait(sent.topic, value=sent.value, key=sent.key, headers=list(sent.headers))
        result = await rebuild(db, broker, timeout=120)
    finally:
        await broker.close()
        await db.dispose()
    assert result.events_applied == len(world.feed.sent) - 0
    after = await figures()
    assert differences(before, after) == []


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


async def test_units_for_the_filter_follow_scope(world: World) -> None:
    dalat = (await world.http.get("/units", headers=world.sign(DALAT))).json()
    assert [u["path"] for u in dalat] == ["VN.68.672"]
    everything = (await world.http.get("/units", headers=world.sign(ADMIN))).json()
    assert [u["path"] for u in everything][:2] == ["VN", "VN.52"]
    counts = (await world.http.get("/cadre-counts", params={"unit": "VN.68"}, headers=world.sign(LAMDONG))).json()
    assert counts["total"] == 19


async def _in_thread(work: Callable[[], object]) -> None:
    import asyncio

    await asyncio.to_thread(work)


async def test_a_board_issues_its_report_which_is_stored_as_issued_and_announced(world: World) -> None:
    issue = {"unit": "VN.68", "kind": "six_monthly", **PERIOD}
    answer = await world.http.post("/reports/board/issued", params=issue, headers=world.sign(LAMDONG))
    assert answer.status_code == 201, answer.text
    issued = answer.json()
    live = (await world.http.get("/reports/board", params=issue, headers=world.sign(LAMDONG))).json()
    assert {k: v for k, v in issued["report"].items() if k != "generated_at"} == {
        k: v for k, v in live.items() if k != "generated_at"
    }
    assert issued["issued_by"] == "user:lamdong" and issued["report"]["cadres"]["total"] == 19

    db = Database(world.database_url)
    try:
        async with db.transaction() as session:
            rows = (await session.execute(select(KIT.outbox.c.topic, KIT.outbox.c.key, KIT.outbox.c.payload))).all()
    finally:
        await db.dispose()
    assert [(topic, key) for topic, key, _ in rows] == [("cadrecare.reporting.report.v1", issued["report_id"])]
    event = json.loads(rows[0][2])
    assert (event["board_unit"], event["kind"], event["period_start"]) == ("VN.68", "six_monthly", "2023-01-01")

    # a record arriving later moves the live report, never the issued one
    await record(world.feed, world.p2[5], EncounterKind.OUTPATIENT_VISIT, date(2023, 6, 2))
    again = await world.http.get(f"/reports/board/issued/{issued['report_id']}", headers=world.sign(CENTRAL))
    assert again.status_code == 200 and again.json() == issued
    moved = (await world.http.get("/reports/board", params=issue, headers=world.sign(LAMDONG))).json()
    assert moved["activity"]["outpatient_visits"] == issued["report"]["activity"]["outpatient_visits"] + 1
    listed = (await world.http.get("/reports/board/issued", params={"unit": "VN.68"}, headers=world.sign(LAMDONG))).json()
    assert [r["report_id"] for r in listed] == [issued["report_id"]]

    # a district board neither issues the province's report nor reads it; an empty period is not issued
    refused = await world.http.post("/reports/board/issued", params=issue, headers=world.sign(DALAT))
    assert refused.status_code == 403
    assert (await world.http.get(f"/reports/board/issued/{issued['report_id']}", headers=world.sign(DALAT))).status_code == 404
    empty = {"unit": "VN.68", "period_start": "2001-01-01", "period_end": "2001-06-30"}
    nothing = await world.http.post("/reports/board/issued", params=empty, headers=world.sign(LAMDONG))
    assert nothing.status_code == 422 and nothing.json()["code"] == "no_data"
    listed = (await world.http.get("/reports/board/issued", params={"unit": "VN.68"}, headers=world.sign(ADMIN))).json()
    assert len(listed) == 1
