"""The approval chain through the gateway, as the demo users walk it: Lâm Đồng's provincial board (lamdong) submits
its six-monthly report with its own words, the central board returns it with a comment, the board submits again,
the central board approves it (for a provincial report that is the acceptance: the period is locked). A hospital's
exam result for that half-year arrives afterwards: it is applied, listed as late, and the board's re-issue shows
the difference from the approved document.

Runs on a stack other modules may have used: its own cadres and records, assertions on its own report and on
differences, never on totals."""

import uuid
from contextlib import closing
from typing import Any

import httpx
import pytest

from devstack.stack import Stack
from tests.e2e.conftest import login
from tests.e2e.helpers import eventually, new_cadre

pytestmark = pytest.mark.e2e

APPROVALS = "/api/v1/reporting/reports/board/approvals"
HIS_RECORDS = "/api/v1/clinical/his/records"
PERIOD = {"period_start": "2026-01-01", "period_end": "2026-06-30"}
WORDS = {
    "assessment": "Công tác khám sức khỏe định kỳ được triển khai đúng kế hoạch.",
    "next_tasks": "Tổ chức khám sức khỏe định kỳ đợt 2.",
    "budget": [{"label": "Ngân sách tỉnh cấp", "allocated_dong": 5_900_000_000}],
    "members": [{"name": "Trần Văn B", "role": "Phó Trưởng ban Thường trực - Giám đốc Sở Y tế", "body": "council"}],
}


def exam(national_id: str, occurred_on: str) -> dict[str, Any]:
    return {
        "kind": "periodic_exam",
        "external_id": f"E2E-APPROVAL-{uuid.uuid4().hex[:10]}",
        "national_id": national_id,
        "occurred_on": occurred_on,
        "classification": {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "A"},
    }


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def registered_in_clinical(his: httpx.Client, national_id: str) -> bool:
    probe = his.post(f"{HIS_RECORDS}/bulk", json={"items": [exam(national_id, "2026-03-01")], "validate_only": True})
    return bool(probe.json()["items"][0]["outcome"] == "created")


def exams_reported(board: httpx.Client) -> int:
    report = ok(board.get("/api/v1/reporting/reports/board", params={"unit": "VN.68", **PERIOD}))
    return int(report["activity"]["periodic_exams"])


def test_a_provincial_report_goes_up_is_returned_accepted_and_reissued_after_a_late_record(
    stack: Stack, admin: httpx.Client, his: httpx.Client
) -> None:
    cadres = [
        ok(admin.post("/api/v1/registry/cadres", json={**new_cadre(unit="VN.68", tier="provincial_2"), "status": "active"}), 201)
        for _ in range(2)
    ]
    for cadre in cadres:
        eventually(lambda cadre=cadre: registered_in_clinical(his, cadre["national_id"]), timeout=30)
    with closing(login(stack, "lamdong")) as lamdong, closing(login(stack, "central")) as central:
        before = exams_reported(lamdong)
        ok(his.post(HIS_RECORDS, json=exam(cadres[0]["national_id"], "2026-03-01")), 201)
        eventually(lambda: exams_reported(lamdong) >= before + 1, timeout=30)

        draft = ok(lamdong.post(APPROVALS, json={"unit": "VN.68", "kind": "six_monthly", **PERIOD, "words": WORDS}), 201)
        approval = f"{APPROVALS}/{draft['approval_id']}"
        assert draft["level_above"] == "VN"
        submitted = ok(lamdong.post(f"{approval}/submit", json={}))
        assert submitted["state"] == "submitted"
        assert ok(lamdong.post(f"{approval}/approve", json={}), 403)["code"] == "own_report"
        returned = ok(central.post(f"{approval}/return", json={"comment": "Bổ sung thành viên Ban"}))
        assert returned["state"] == "returned" and returned["steps"][-1]["comment"] == "Bổ sung thành viên Ban"
        members = [*WORDS["members"], {"name": "Nguyễn Thị C", "role": "Trưởng ban", "body": "board"}]
        ok(lamdong.put(f"{approval}/words", json={**WORDS, "members": members}))
        ok(lamdong.post(f"{approval}/submit", json={"comment": "Đã bổ sung"}))
        accepted = ok(central.post(f"{approval}/approve", json={"comment": "Tiếp nhận"}))
        assert accepted["state"] == "accepted" and accepted["locked_at"]
        assert [s["action"] for s in accepted["steps"]] == ["create", "submit", "return", "edit", "submit", "approve"]
        assert ok(lamdong.put(f"{approval}/words", json=WORDS), 409)["code"] == "locked"
        approved_exams = ok(lamdong.get(f"{approval}/document"))["report"]["activity"]["periodic_exams"]
        assert approved_exams >= before + 1

        late = ok(his.post(HIS_RECORDS, json=exam(cadres[1]["national_id"], "2026-04-15")), 201)
        late_id = late["record"]["id"]
        listed = eventually(
            lambda: [r for r in ok(central.get(f"{approval}/late-records")) if r["record_id"] == late_id], timeout=30
        )
        assert (listed[0]["record_kind"], listed[0]["occurred_on"]) == ("periodic_exam", "2026-04-15")

        reissue = ok(lamdong.post(f"{approval}/reissue"), 201)
        changed = {d["figure"]: d for d in reissue["differences"]}
        assert changed["activity.periodic_exams"]["approved"] == approved_exams
        assert changed["activity.periodic_exams"]["delta"] >= 1
        assert reissue["late_records"] >= 1 and reissue["approved_report_id"] == accepted["report_id"]
        kept = ok(lamdong.get(f"/api/v1/reporting/reports/board/issued/{accepted['report_id']}"))
        assert kept["report"]["activity"]["periodic_exams"] == approved_exams  # the approved document stays

        progress = ok(central.get(f"{APPROVALS}/completeness", params={"unit": "VN", **PERIOD}))
        mine = next(b for b in progress["boards"] if b["board_unit"] == "VN.68")
        assert mine["state"] == "accepted" and mine["timeliness"] == "late"  # submitted in November, due 15 July
