"""Clinical through the gateway, across real processes: a cadre registered in the registry reaches clinical's
read model by event, a hospital's HIS posts results for them (single, repeated, bulk), and boards read them
within their scope."""

from contextlib import closing
from typing import Any

import httpx
import pytest

from devstack.stack import Stack
from tests.e2e.conftest import login
from tests.e2e.helpers import eventually, new_cadre

pytestmark = pytest.mark.e2e


def exam(national_id: str, external_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "periodic_exam",
        "external_id": external_id,
        "national_id": national_id,
        "occurred_on": "2026-03-01",
        "measurements": [{"code": "bp_systolic", "value": 150, "unit": "mm[Hg]"}],
        "diagnoses": [{"code": "I10"}],
        "classification": {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "B2"},
        **overrides,
    }


def registered_in_clinical(his: httpx.Client, national_id: str) -> bool:
    """The HIS's own view: a probe that is refused only while clinical has not heard of the cadre yet."""
    probe = his.post("/api/v1/clinical/his/records/bulk", json={"items": [exam(national_id, "probe")], "validate_only": True})
    return bool(probe.json()["items"][0]["outcome"] == "created")


def test_a_his_posts_results_through_the_gateway_and_boards_read_them_in_scope(
    stack: Stack, admin: httpx.Client, his: httpx.Client
) -> None:
    dalat_cadre = admin.post("/api/v1/registry/cadres", json=new_cadre(unit="VN.68.672")).json()
    baoloc_cadre = admin.post("/api/v1/registry/cadres", json=new_cadre(unit="VN.68.673")).json()
    for cadre in (dalat_cadre, baoloc_cadre):
        eventually(lambda cadre=cadre: registered_in_clinical(his, cadre["national_id"]), timeout=20)

    first = his.post("/api/v1/clinical/his/records", json=exam(dalat_cadre["national_id"], "E2E-KSK-1"))
    assert first.status_code == 201, first.text
    repeat = his.post("/api/v1/clinical/his/records", json=exam(dalat_cadre["national_id"], "E2E-KSK-1"))
    assert repeat.status_code == 200 and repeat.json() == {**first.json(), "outcome": "existed"}
    keyed = his.post(
        "/api/v1/clinical/his/records",
        json=exam(dalat_cadre["national_id"], "E2E-KSK-2"),
        headers={"idempotency-key": "e2e-1"},
    )
    replayed = his.post(
        "/api/v1/clinical/his/records",
        json=exam(dalat_cadre["national_id"], "E2E-KSK-2"),
        headers={"idempotency-key": "e2e-1"},
    )
    assert keyed.status_code == replayed.status_code == 201 and keyed.json() == replayed.json()

    bulk = his.post(
        "/api/v1/clinical/his/records/bulk",
        json={
            "items": [
                {"kind": "discharge", "admission_external_id": "E2E-NT-1", "discharged_on": "2026-02-20", "outcome": "improved"},
                {
                    "kind": "admission",
                    "external_id": "E2E-NT-1",
                    "national_id": baoloc_cadre["national_id"],
                    "occurred_on": "2026-02-10",
                    "ward": "Phòng nội A",
                    "diagnoses": [{"code": "J44.1"}],
                },
                exam(baoloc_cadre["national_id"], "E2E-KSK-3", diagnoses=[{"code": "I14"}]),
                exam("079052999999", "E2E-KSK-4"),
            ]
        },
    )
    assert bulk.status_code == 200, bulk.text
    items = bulk.json()["items"]
    assert [i["outcome"] for i in items] == ["amended", "created", "refused", "refused"]
    assert items[2]["errors"][0]["type"] == "unknown_icd10" and items[3]["errors"][0]["type"] == "national_id_unknown"

    own = his.get("/api/v1/clinical/his/records/lookup", params={"external_id": "E2E-NT-1"})
    assert own.status_code == 200 and own.json()["data"]["discharge"]["outcome"] == "improved"
    assert his.get(f"/api/v1/clinical/cadres/{dalat_cadre['id']}/timeline").status_code == 403  # a HIS is no board

    with closing(login(stack, "lamdong")) as lamdong, closing(login(stack, "dalat")) as dalat:
        timeline = lamdong.get(f"/api/v1/clinical/cadres/{dalat_cadre['id']}/timeline")
        assert timeline.status_code == 200
        assert [r["external_id"] for r in timeline.json()["items"]] == ["E2E-KSK-2", "E2E-KSK-1"]  # newest first
        conditions = lamdong.get(f"/api/v1/clinical/cadres/{baoloc_cadre['id']}/conditions").json()
        assert [c["group"] for c in conditions["conditions"]] == ["copd"]
        assert dalat.get(f"/api/v1/clinical/cadres/{dalat_cadre['id']}/timeline").json()["total"] == 2
        assert dalat.get(f"/api/v1/clinical/cadres/{baoloc_cadre['id']}/timeline").status_code == 404
