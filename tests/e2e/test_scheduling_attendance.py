"""Scheduling across real processes, through the gateway: cadres registered in the registry reach scheduling's
roster by event; a board goes from cadence rules to a plan, invitations and their PDF letters; a hospital's HIS
posts the exam result to clinical, whose event sets the attendance in scheduling; coverage shows it."""

from contextlib import closing
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from devstack.stack import Stack
from servicekit import clock
from tests.e2e.conftest import login
from tests.e2e.helpers import eventually, new_cadre

pytestmark = pytest.mark.e2e

API = "/api/v1/scheduling"


def roster_size(client: httpx.Client) -> int:
    answer = client.get(f"{API}/roster/summary")
    answer.raise_for_status()
    count: int = answer.json()["cadres"]
    return count


def exam(national_id: str, external_id: str, occurred_on: date, **ids: Any) -> dict[str, Any]:
    return {
        "kind": "periodic_exam",
        "external_id": external_id,
        "national_id": national_id,
        "occurred_on": occurred_on.isoformat(),
        "classification": {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "B1"},
        **ids,
    }


def registered_in_clinical(his: httpx.Client, national_id: str) -> bool:
    probe = his.post(
        "/api/v1/clinical/his/records/bulk", json={"items": [exam(national_id, "probe", clock.today())], "validate_only": True}
    )
    return bool(probe.json()["items"][0]["outcome"] == "created")


def test_rules_to_plan_to_letters_to_attendance_by_exam_result_to_coverage(
    stack: Stack, admin: httpx.Client, his: httpx.Client
) -> None:
    today = clock.today()  # Vietnam's date, as the services count it
    with closing(login(stack, "lamdong")) as board:
        before = roster_size(board)
        cadres = [
            admin.post(
                "/api/v1/registry/cadres",
                json={
                    **new_cadre(unit="VN.68", tier="provincial_2"),
                    "full_name": name,
                    "status": "active",
                    "residence_address": "12 Trần Phú, Phường 3, Đà Lạt",
                },
            ).json()
            for name in ("Nguyễn Văn Khám", "Trần Thị Mời")
        ]
        eventually(lambda: roster_size(board) == before + 2, timeout=20)

        rules = board.post(
            f"{API}/cadence-rules",
            json={
                "board_unit": "VN.68",
                "year": today.year,
                "rules": [{"tier": "provincial_2", "status": "active", "exams_per_year": 1}],
            },
        )
        assert rules.status_code == 201, rules.text
        starts = max(date(today.year, 1, 1), today - timedelta(days=5))
        ends = min(date(today.year, 12, 31), today + timedelta(days=20))
        plan = board.post(
            f"{API}/plans",
            json={
                "board_unit": "VN.68",
                "year": today.year,
                "title": f"Kế hoạch khám sức khỏe định kỳ năm {today.year}",
                "plan_date": today.isoformat(),
                "rule_set_id": rules.json()["id"],
                "facilities": [{"code": "68-BVDK", "name": "Bệnh viện Đa khoa tỉnh Lâm Đồng", "daily_capacity": 50}],
                "rounds": [
                    {
                        "number": 1,
                        "starts_on": starts.isoformat(),
                        "ends_on": ends.isoformat(),
                        "groups": [{"tier": "provincial_2", "facility": "68-BVDK"}],
                    }
                ],
            },
        )
        assert plan.status_code == 201, plan.text
        plan_id = plan.json()["id"]
        generated = board.post(f"{API}/plans/{plan_id}/generate")
        assert generated.status_code == 200, generated.text
        assert generated.json()["invited"] >= 2
        assert board.post(f"{API}/plans/{plan_id}/generate").json()["invited"] == 0

        ours = {c["id"] for c in cadres}
        listed = board.get(f"{API}/invitations", params={"plan_id": plan_id, "limit": 200})
        assert listed.status_code == 200, listed.text
        invitations = [i for i in listed.json()["items"] if i["cadre_id"] in ours]
        assert len(invitations) == 2 and all(i["status"] == "invited" for i in invitations)
        letter = board.get(f"{API}/invitations/{invitations[0]['id']}/letter.pdf")
        assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
        assert letter.content.startswith(b"%PDF")
        assert "x-audit-subjects" not in letter.headers  # the gateway keeps it for the audit trail

        # the hospital posts the exam result to clinical; clinical's event sets the attendance in scheduling
        target = next(c for c in cadres if c["id"] == invitations[0]["cadre_id"])
        eventually(lambda: registered_in_clinical(his, target["national_id"]), timeout=20)
        posted = his.post(
            "/api/v1/clinical/his/records",
            json=exam(target["national_id"], "E2E-SCHED-1", today, plan_id=plan_id, round_id=invitations[0]["round_id"]),
        )
        assert posted.status_code == 201, posted.text

        def attended() -> bool:
            return bool(board.get(f"{API}/invitations/{invitations[0]['id']}").json()["status"] == "attended")

        eventually(attended, timeout=20)
        other = board.post(f"{API}/invitations/{invitations[1]['id']}/status", json={"status": "deferred", "reason": "ill"})
        assert other.status_code == 200 and other.json()["status"] == "deferred"

        coverage = board.get(f"{API}/coverage", params={"plan_id": plan_id, "by": ["round"]})
        assert coverage.status_code == 200
        row = coverage.json()["rows"][0]
        assert row["round"] == 1 and row["attended"] >= 1 and row["deferred"] >= 1
        assert row["rate"] == (10000 * row["attended"] // row["invited"]) / 100

        # a district board sees none of the province's invitations
        with closing(login(stack, "dalat")) as dalat:
            assert dalat.get(f"{API}/invitations/{invitations[0]['id']}").status_code == 404
