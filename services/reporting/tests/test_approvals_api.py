"""The approval chain on SQLite and PostgreSQL: a commune board's report through its province to the central board,
a provincial report accepted by the central board, the period locked, late records listed and re-issued; every
step audited and published in its transaction."""

import io
import json
import uuid
from datetime import date
from typing import Any

import openpyxl
from reporting_testkit import ADMIN, CENTRAL, LAMDONG, PERIOD, World, classified, record, snapshot, unit
from sqlalchemy import select

from contracts import roles
from contracts.enums import CadreStatus, EncounterKind, ManagementTier, UnitLevel
from contracts.events.registry import CadreRegistered, UnitCreated
from reporting.headcounts.store import TOTAL_KEYS
from reporting.tables import KIT, HeadcountTotal
from servicekit.db import Database
from servicekit.testing.principals import principal_for

COMMUNE = "VN.68.24781"
XUANHUONG = principal_for(roles.commune_board, COMMUNE, subject="user:xuanhuong")
BINH_DINH = principal_for(roles.provincial_board, "VN.52", subject="user:binhdinh")
H2_2025 = {"period_start": "2025-07-01", "period_end": "2025-12-31"}
WORDS = {
    "assessment": "Công tác bảo vệ, chăm sóc sức khỏe cán bộ được quan tâm.",
    "next_tasks": "Tiếp tục tổ chức khám sức khỏe định kỳ.",
    "budget": [{"label": "Ngân sách tỉnh cấp", "allocated_dong": 5_900_000_000, "spent_dong": 5_650_000_000}],
    "members": [{"name": "Nguyễn Văn A", "role": "Trưởng ban", "body": "board"}],
}
APPROVALS = "/reports/board/approvals"


async def commune_with_records(world: World) -> None:
    """Phường Xuân Hương since 1 July 2025, its commune-tier cadres and their exams of the second half of 2025."""
    commune = unit(COMMUNE, "Phường Xuân Hương - Đà Lạt", UnitLevel.COMMUNE).model_copy(update={"valid_from": date(2025, 7, 1)})
    await world.feed.send(UnitCreated(unit=commune), subject=COMMUNE)
    cadres = [snapshot(COMMUNE, ManagementTier.COMMUNE, CadreStatus.ACTIVE, date(2024, 1, 1)) for _ in range(3)]
    for cadre in cadres:
        await world.feed.send(CadreRegistered(cadre=cadre), subject=str(cadre.id))
        await record(world.feed, cadre, EncounterKind.PERIODIC_EXAM, date(2025, 9, 10), classification=classified("A"))


async def step(world: World, who: Any, approval_id: str, action: str, status: int = 200, **body: Any) -> dict[str, Any]:
    answer = await world.http.post(f"{APPROVALS}/{approval_id}/{action}", json=body, headers=world.sign(who))
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def draft(world: World, who: Any, unit_path: str, period: dict[str, str], status: int = 201) -> dict[str, Any]:
    answer = await world.http.post(APPROVALS, json={"unit": unit_path, **period, "words": WORDS}, headers=world.sign(who))
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def outbox(world: World) -> list[dict[str, Any]]:
    db = Database(world.database_url)
    try:
        async with db.transaction() as session:
            rows = (await session.execute(select(KIT.outbox.c.headers, KIT.outbox.c.payload).order_by(KIT.outbox.c.id))).all()
    finally:
        await db.dispose()
    return [{"type": dict(headers)["ce_type"], **json.loads(payload)} for headers, payload in rows]


async def test_a_commune_report_goes_up_through_its_province_to_the_central_board(world: World) -> None:
    await commune_with_records(world)
    created = await draft(world, XUANHUONG, COMMUNE, H2_2025)
    assert created["state"] == "draft" and created["level_above"] == "VN.68" and created["deadline"] == "2026-01-15"
    approval_id = created["approval_id"]

    submitted = await step(world, XUANHUONG, approval_id, "submit")
    assert submitted["state"] == "submitted" and submitted["report_id"]
    document = (await world.http.get(f"/reports/board/issued/{submitted['report_id']}", headers=world.sign(LAMDONG))).json()
    assert document["report"]["words"]["budget"][0]["allocated_dong"] == 5_900_000_000
    assert document["report"]["cadres"]["total"] == 3 and document["issued_by"] == "user:xuanhuong"

    await step(world, CENTRAL, approval_id, "approve", 403)  # the province approves first
    returned = await step(world, LAMDONG, approval_id, "return", comment="Bổ sung phần kinh phí đã chi")
    assert returned["state"] == "returned" and returned["steps"][-1]["comment"] == "Bổ sung phần kinh phí đã chi"
    edited = await world.http.put(
        f"{APPROVALS}/{approval_id}/words", json={**WORDS, "assessment": "Đã bổ sung."}, headers=world.sign(XUANHUONG)
    )
    assert edited.status_code == 200 and edited.json()["words"]["assessment"] == "Đã bổ sung."
    again = await step(world, XUANHUONG, approval_id, "submit")
    assert again["report_id"] != submitted["report_id"] and again["first_submitted_at"] == submitted["first_submitted_at"]
    approved = await step(world, LAMDONG, approval_id, "approve")
    assert approved["state"] == "approved" and approved["locked_at"] and approved["level_above"] == "VN"
    accepted = await step(world, CENTRAL, approval_id, "accept", comment="Tiếp nhận")
    assert accepted["state"] == "accepted" and accepted["level_above"] is None
    listed = await world.http.get(APPROVALS, params={"unit": COMMUNE}, headers=world.sign(LAMDONG))
    assert [a["approval_id"] for a in listed.json()] == [approval_id]
    assert (await world.http.get(APPROVALS, params={"unit": COMMUNE}, headers=world.sign(BINH_DINH))).status_code == 404
    trail = [(s["action"], s["to_state"], s["actor"]) for s in accepted["steps"]]
    assert trail == [
        ("create", "draft", "user:xuanhuong"),
        ("submit", "submitted", "user:xuanhuong"),
        ("return", "returned", "user:lamdong"),
        ("edit", "returned", "user:xuanhuong"),
        ("submit", "submitted", "user:xuanhuong"),
        ("approve", "approved", "user:lamdong"),
        ("accept", "accepted", "user:central"),
    ]
    events = [
        (e["type"], e["actor"], e.get("comment"))
        for e in await outbox(world)
        if e["type"] != "vn.cadrecare.reporting.report.issued"
    ]
    assert events == [
        ("vn.cadrecare.reporting.report.submitted", "user:xuanhuong", None),
        ("vn.cadrecare.reporting.report.returned", "user:lamdong", "Bổ sung phần kinh phí đã chi"),
        ("vn.cadrecare.reporting.report.submitted", "user:xuanhuong", None),
        ("vn.cadrecare.reporting.report.approved", "user:lamdong", None),
        ("vn.cadrecare.reporting.report.accepted", "user:central", "Tiếp nhận"),
    ]


async def test_a_late_record_is_applied_flagged_listed_and_counted_by_a_reissue(world: World) -> None:
    approval_id = (await draft(world, LAMDONG, "VN.68", PERIOD))["approval_id"]
    await step(world, LAMDONG, approval_id, "submit")
    accepted = await step(world, CENTRAL, approval_id, "approve")
    assert accepted["state"] == "accepted" and accepted["locked_at"]  # the central board's approval accepts
    assert (await world.http.get(f"{APPROVALS}/{approval_id}/late-records", headers=world.sign(LAMDONG))).json() == []

    late = await record(world.feed, world.p2[5], EncounterKind.OUTPATIENT_VISIT, date(2023, 6, 2))
    await record(world.feed, world.p2[5], EncounterKind.OUTPATIENT_VISIT, date(2023, 7, 2))  # after the period: not late
    listed = (await world.http.get(f"{APPROVALS}/{approval_id}/late-records", headers=world.sign(CENTRAL))).json()
    assert [(r["record_id"], r["record_kind"], r["occurred_on"]) for r in listed] == [
        (str(late.record_id), "outpatient_visit", "2023-06-02")
    ]
    live = (await world.http.get("/reports/board", params={"unit": "VN.68", **PERIOD}, headers=world.sign(LAMDONG))).json()
    assert live["activity"]["outpatient_visits"] == 6  # applied as any other record

    answer = await world.http.post(f"{APPROVALS}/{approval_id}/reissue", headers=world.sign(LAMDONG))
    assert answer.status_code == 201, answer.text
    reissue = answer.json()
    assert reissue["late_records"] == 1 and reissue["approved_report_id"] == accepted["report_id"]
    changed = {d["figure"]: (d["approved"], d["now"], d["delta"]) for d in reissue["differences"]}
    assert changed["activity.outpatient_visits"] == (5, 6, 1)
    assert all(not f.startswith("cadres.") for f in changed)  # a visit changes no count of cadres
    approved = (await world.http.get(f"/reports/board/issued/{accepted['report_id']}", headers=world.sign(LAMDONG))).json()
    assert approved["report"]["activity"]["outpatient_visits"] == 5  # the approved document never changes
    reissued = (
        await world.http.get(f"/reports/board/issued/{reissue['reissued_report_id']}", headers=world.sign(LAMDONG))
    ).json()
    assert reissued["report"]["words"]["assessment"] == WORDS["assessment"]


async def unchanged(world: World, approval_id: str, before: dict[str, Any]) -> None:
    after = (await world.http.get(f"{APPROVALS}/{approval_id}", headers=world.sign(ADMIN))).json()
    assert after == before


async def test_approving_ones_own_report_or_outside_ones_scope_is_refused_and_changes_nothing(world: World) -> None:
    mine = await draft(world, ADMIN, "VN.68", PERIOD)
    submitted = await step(world, ADMIN, mine["approval_id"], "submit")
    own = await step(world, ADMIN, mine["approval_id"], "approve", 403)
    assert own["code"] == "own_report" and own["errors"][0]["msg"]
    await unchanged(world, mine["approval_id"], submitted)

    await step(world, BINH_DINH, mine["approval_id"], "approve", 404)  # another province's board: not in its scope
    assert (await world.http.get(f"{APPROVALS}/{mine['approval_id']}", headers=world.sign(BINH_DINH))).status_code == 404
    await step(world, LAMDONG, mine["approval_id"], "approve", 403)  # its own board is not the level above
    await unchanged(world, mine["approval_id"], submitted)
    assert len([e for e in await outbox(world) if e["type"].endswith("approved")]) == 0

    await step(world, LAMDONG, str(uuid.uuid4()), "approve", 404)
    await draft(world, LAMDONG, "VN.68", PERIOD, 409)  # one report per board, kind and period
    await draft(world, LAMDONG, "VN.52", PERIOD, 404)  # another province's unit
    await draft(world, LAMDONG, "VN.68.672", PERIOD, 422)  # a district board sends nothing up this chain


async def test_editing_an_approved_periods_words_is_refused_with_the_reason(world: World) -> None:
    approval_id = (await draft(world, LAMDONG, "VN.68", PERIOD))["approval_id"]
    await step(world, LAMDONG, approval_id, "submit")
    submitted_edit = await world.http.put(f"{APPROVALS}/{approval_id}/words", json=WORDS, headers=world.sign(LAMDONG))
    assert submitted_edit.status_code == 409 and submitted_edit.json()["code"] == "wrong_state"
    accepted = await step(world, CENTRAL, approval_id, "approve")
    refused = await world.http.put(
        f"{APPROVALS}/{approval_id}/words", json={**WORDS, "assessment": "khác"}, headers=world.sign(LAMDONG)
    )
    assert refused.status_code == 409 and refused.json()["code"] == "locked" and "locked" in refused.json()["detail"]
    await unchanged(world, approval_id, accepted)


async def test_completeness_lists_boards_on_time_late_and_missing(world: World) -> None:
    await commune_with_records(world)
    on_time = (await draft(world, LAMDONG, "VN.68", PERIOD))["approval_id"]
    await step(world, LAMDONG, on_time, "submit")
    central = await world.http.get(f"{APPROVALS}/completeness", params={"unit": "VN", **PERIOD}, headers=world.sign(CENTRAL))
    assert central.status_code == 200, central.text
    answer = central.json()
    boards = {b["board_unit"]: b["timeliness"] for b in answer["boards"]}
    assert answer["deadline"] == "2023-07-15"
    assert boards == {"VN.68": "late", "VN.52": "missing"}  # submitted today, long after the deadline
    assert (answer["late"], answer["missing"], answer["on_time"]) == (1, 1, 0)

    province = await world.http.get(f"{APPROVALS}/completeness", params={"unit": "VN.68", **H2_2025}, headers=world.sign(LAMDONG))
    assert [(b["board_unit"], b["name"], b["timeliness"]) for b in province.json()["boards"]] == [
        (COMMUNE, "Phường Xuân Hương - Đà Lạt", "missing")
    ]
    assert (
        await world.http.get(f"{APPROVALS}/completeness", params={"unit": "VN", **PERIOD}, headers=world.sign(LAMDONG))
    ).status_code == 404


async def test_a_report_whose_arithmetic_checks_fail_is_not_submitted(world: World) -> None:
    """A read model gone wrong (one cadre counted twice on a day: the headcount one more than the intervals
    hold) makes the report's totals disagree: the submission is refused with the failing check, and nothing is
    stored or published."""
    approval_id = (await draft(world, LAMDONG, "VN.68", PERIOD))["approval_id"]
    before = (await world.http.get(f"{APPROVALS}/{approval_id}", headers=world.sign(ADMIN))).json()
    cadre = world.p2[0]
    db = Database(world.database_url)
    try:
        async with db.transaction() as session:
            key = ("VN.68", cadre.managing_unit, cadre.tier.value, "active", cadre.managing_unit, "VN.68", "")
            held = await session.get(HeadcountTotal, key)
            if held is None:
                session.add(HeadcountTotal(**dict(zip(TOTAL_KEYS, key, strict=True)), cadres=1))
            else:
                held.cadres += 1
    finally:
        await db.dispose()
    refused = await step(world, LAMDONG, approval_id, "submit", 422)
    assert refused["code"] == "checks_failed" and refused["errors"][0]["loc"] == ["report", "checks"]
    assert "arithmetic check failed" in refused["errors"][0]["msg"]
    await unchanged(world, approval_id, before)
    assert [e for e in await outbox(world) if e["type"].startswith("vn.cadrecare.reporting")] == []
    issued = (await world.http.get("/reports/board/issued", params={"unit": "VN.68"}, headers=world.sign(LAMDONG))).json()
    assert issued == []


async def test_the_submitted_document_carries_the_boards_words_in_xlsx_and_pdf(world: World) -> None:
    approval_id = (await draft(world, LAMDONG, "VN.68", PERIOD))["approval_id"]
    document = f"{APPROVALS}/{approval_id}/document"
    assert (await world.http.get(document, headers=world.sign(LAMDONG))).status_code == 404  # nothing submitted yet
    await step(world, LAMDONG, approval_id, "submit")
    xlsx = await world.http.get(document, params={"format": "xlsx"}, headers=world.sign(CENTRAL))
    assert xlsx.status_code == 200, xlsx.text
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content))["Báo cáo"].iter_rows(values_only=True))
    firsts = [r[0] for r in rows]
    order = ["Tổ chức bộ máy: thành viên Ban và Hội đồng chuyên môn", "Kinh phí (đồng)", "2. Đánh giá chung"]
    assert [firsts.index(h) for h in order] == sorted(firsts.index(h) for h in order)
    assert firsts.index(order[0]) < next(i for i, f in enumerate(firsts) if str(f).startswith("1.1. Đặc điểm"))
    assert ("Ngân sách tỉnh cấp", 5_900_000_000, 5_650_000_000) in [tuple(r[:3]) for r in rows]
    assert (WORDS["assessment"],) in [tuple(r[:1]) for r in rows] and "II. Phương hướng nhiệm vụ kỳ tới" in firsts
    pdf = await world.http.get(document, params={"format": "pdf"}, headers=world.sign(LAMDONG))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
