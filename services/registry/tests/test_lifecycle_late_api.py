"""A retirement, death or removal that a board learns of after a reorganisation moved the cadre, recorded with
its own (earlier) date on SQLite and PostgreSQL: the periods split there and later ones keep the new unit;
refused only against a later change of status."""

from datetime import date
from typing import Any

from registry_testkit import Api, counts

from contracts.enums import CadreStatus
from devstack.demo_registry import lam_dong_2025
from registry.domain import Operation
from registry.lifecycle.domain import Span, late_change_problems

ACTIVE, RETIRED, DECEASED = CadreStatus.ACTIVE, CadreStatus.RETIRED, CadreStatus.DECEASED


def test_a_late_change_fits_unless_a_later_status_change_contradicts_it() -> None:
    moved = [Span(date(2019, 1, 1), ACTIVE), Span(date(2025, 7, 1), ACTIVE)]  # a reorganisation's move only
    assert late_change_problems(Operation.DIE, moved, date(2025, 3, 1)) == []
    retired_later = [*moved, Span(date(2025, 8, 1), RETIRED)]
    [(loc, msg)] = late_change_problems(Operation.DIE, retired_later, date(2025, 5, 1))
    assert loc == "effective_date" and "retirement recorded from 2025-08-01" in msg
    assert late_change_problems(Operation.DIE, retired_later, date(2025, 9, 1)) == []  # after it: nothing later
    [(_, before)] = late_change_problems(Operation.RETIRE, moved, date(2018, 1, 1))
    assert "first recorded period" in before
    assert late_change_problems(Operation.CHANGE_TIER, retired_later, date(2025, 5, 1)) == []  # not a late operation


async def _moved_cadre(api: Api, **overrides: Any) -> dict[str, Any]:
    """An active provincial cadre of Đắk Nông, moved to the new Lâm Đồng by the 2025 reorganisation."""
    body = {"managing_unit": "VN.67", "tier": "provincial_1", "status": "active", "status_since": "2019-01-01"}
    return await api.create(**{**body, "date_of_birth": "1966-05-01", **overrides})


async def test_a_death_dated_before_the_merger_is_recorded_after_it(api: Api) -> None:
    cadre = await _moved_cadre(api)
    other = await _moved_cadre(api, full_name="Trần Văn Bình")
    merged = await api.post("/units/reorganisations", json=lam_dong_2025()["reorganisation"])
    assert merged.status_code == 201, merged.text
    retired = await api.post(f"/cadres/{other['id']}/retirement", json={"effective_date": "2025-08-01"})
    assert retired.status_code == 200, retired.text
    before = len(await api.outbox())

    died = await api.post(f"/cadres/{cadre['id']}/death", json={"effective_date": "2025-03-01"})
    assert died.status_code == 200, died.text
    assert (died.json()["status"], died.json()["status_since"], died.json()["managing_unit"]) == (
        "deceased",
        "2025-03-01",
        "VN.68",
    )

    def on(unit: str, day: str) -> Any:
        return api.get("/cadre-counts", params={"unit": unit, "on": day})

    assert counts(await on("VN.67", "2024-12-31")) == {("VN.67", "provincial_1", "active"): 2}
    assert counts(await on("VN.67", "2025-05-01")) == {
        ("VN.67", "provincial_1", "active"): 1,
        ("VN.67", "provincial_1", "deceased"): 1,
    }
    assert counts(await on("VN.68", "2025-07-15")) == {
        ("VN.68", "provincial_1", "active"): 1,
        ("VN.68", "provincial_1", "deceased"): 1,  # still dead, under the unit the reorganisation gave
    }
    assert [t for _, t in (await api.outbox())[before:]] == ["vn.cadrecare.registry.cadre.died"]
    history = (await api.get(f"/cadres/{cadre['id']}/history")).json()
    assert ("died", "status", "2025-03-01") in [(h["operation"], h["field"], h["effective_date"]) for h in history]

    # the other was retired after the merger: a death dated before that retirement contradicts it
    conflict = await api.post(f"/cadres/{other['id']}/death", json={"effective_date": "2025-05-01"})
    assert conflict.status_code == 422
    assert conflict.json()["errors"][0]["loc"] == ["effective_date"]
    assert "retirement recorded from 2025-08-01" in conflict.json()["errors"][0]["msg"]
    assert len(await api.outbox()) == before + 1  # nothing changed
    early_retirement = await api.post(f"/cadres/{other['id']}/retirement", json={"effective_date": "2025-03-01"})
    assert early_retirement.status_code == 422 and "retirement recorded" in early_retirement.json()["errors"][0]["msg"]
    # a tier change is no late status change: still refused before the last recorded change
    early_tier = await api.post(f"/cadres/{other['id']}/tier", json={"tier": "provincial_2", "effective_date": "2025-03-01"})
    assert early_tier.status_code == 422 and "before the last recorded change" in early_tier.json()["errors"][0]["msg"]


async def test_a_late_removal_keeps_the_reorganisations_unit_and_refuses_before_registration(api: Api) -> None:
    cadre = await _moved_cadre(api)
    assert (await api.post("/units/reorganisations", json=lam_dong_2025()["reorganisation"])).status_code == 201
    too_early = await api.post(
        f"/cadres/{cadre['id']}/removal", json={"effective_date": "2018-06-01", "reason": "không còn đủ tiêu chuẩn"}
    )
    assert too_early.status_code == 422 and "first recorded period" in too_early.json()["errors"][0]["msg"]
    removed = await api.post(
        f"/cadres/{cadre['id']}/removal", json={"effective_date": "2025-06-30", "reason": "không còn đủ tiêu chuẩn"}
    )
    assert removed.status_code == 200, removed.text
    assert counts(await api.get("/cadre-counts", params={"unit": "VN.68", "on": "2025-07-01"})) == {
        ("VN.68", "provincial_1", "removed"): 1
    }
    assert counts(await api.get("/cadre-counts", params={"unit": "VN.67", "on": "2025-06-30"})) == {
        ("VN.67", "provincial_1", "removed"): 1
    }
