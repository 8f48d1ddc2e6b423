"""The HIS interface (clinical.ingestion), on SQLite and PostgreSQL, called as the gateway calls it."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
from clinical_testkit import CLASSIFICATION, Count, Events, Sign, admission, exam, post

from clinical.tables import ClinicalRecord
from contracts.enums import CadreStatus
from contracts.events.registry import CadreDied
from contracts.scope import Principal
from servicekit import clock


async def test_an_exam_result_is_created_once_then_existed_then_amended_and_every_version_kept(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, outbox_events: Events
) -> None:
    nid = "068052000001"
    cadre_id = await seed_cadre(national_id=nid)
    first = await post(client, sign_as, principals.his, exam(nid))
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "created"
    record = first.json()["record"]
    assert record["version"] == 1 and record["cadre_id"] == str(cadre_id) and record["facility"] == "68-BVDK"

    again = await post(client, sign_as, principals.his, exam(nid))
    assert again.status_code == 200
    assert again.json() == {"outcome": "existed", "record": record}

    corrected = exam(nid, classification={**CLASSIFICATION, "code": "B2"})
    amended = await post(client, sign_as, principals.his, corrected)
    assert amended.status_code == 200 and amended.json()["outcome"] == "amended"
    assert amended.json()["record"]["version"] == 2
    late_retry = await post(client, sign_as, principals.his, exam(nid))  # version 1 again: a stale retry, not a revert
    assert late_retry.json()["outcome"] == "existed" and late_retry.json()["record"]["version"] == 2

    read = await client.get(f"/records/{record['id']}", headers=sign_as(principals.doctor))
    assert read.status_code == 200
    assert read.headers["x-audit-subjects"] == str(cadre_id)
    body = read.json()
    assert body["classification"]["code"] == "B2" and body["diagnoses"] == ["I10", "E11.9"] and body["needs_follow_up"]
    versions = (await client.get(f"/records/{record['id']}/versions", headers=sign_as(principals.doctor))).json()
    assert [(v["version"], v["change"], v["data"]["classification"]["code"]) for v in versions] == [
        (1, "created", "B1"),
        (2, "correction", "B2"),
    ]
    events = await outbox_events()
    assert [t for t, _ in events] == ["vn.cadrecare.clinical.record.recorded", "vn.cadrecare.clinical.record.amended"]
    summary = events[0][1]["record"]
    assert summary["plan_id"] == "7d1c2f5e-0000-4000-8000-000000000001" and summary["cadre_id"] == str(cadre_id)
    assert summary["classification"] == CLASSIFICATION and summary["chronic_groups"] == ["hypertension", "diabetes"]
    assert events[1][1]["previous_version"] == 1 and events[1][1]["change"] == "correction"


async def test_bad_input_is_refused_field_by_field_and_nothing_is_stored(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, outbox_events: Events, today: date
) -> None:
    nid = "068052000002"
    await seed_cadre(national_id=nid)
    tomorrow = (today + timedelta(days=1)).isoformat()
    bad = exam(
        nid,
        occurred_on=tomorrow,
        diagnoses=[{"code": "I10"}, {"code": "I14"}],
        classification={**CLASSIFICATION, "code": "B3"},
        labs=[{"code": "glucose", "value": 7.8}],
    )
    answer = await post(client, sign_as, principals.his, bad)
    assert answer.status_code == 422
    errors = {tuple(e["loc"]): e["type"] for e in answer.json()["errors"]}
    assert errors == {
        ("body", "occurred_on"): "date_in_future",
        ("body", "diagnoses", 1, "code"): "unknown_icd10",
        ("body", "classification", "code"): "unknown_classification",
        ("body", "labs", 0, "unit"): "unit_missing",
    }
    other_scheme = await post(
        client, sign_as, principals.his, exam(nid, classification={"system": "x", "version": "1", "code": "A"})
    )
    assert [e["loc"] for e in other_scheme.json()["errors"]] == [["body", "classification", "system"]]
    early_discharge = admission(nid, discharge={"discharged_on": "2026-02-01", "outcome": "improved"})
    refused = await post(client, sign_as, principals.his, early_discharge)
    assert [(e["loc"], e["type"]) for e in refused.json()["errors"]] == [
        (["body", "discharge", "discharged_on"], "discharge_before_admission")
    ]
    abroad = {
        "kind": "referral",
        "external_id": "CV-1",
        "national_id": nid,
        "occurred_on": "2026-01-05",
        "referral_kind": "abroad",
        "to_facility": "Singapore General Hospital",
    }
    assert (await post(client, sign_as, principals.his, abroad)).json()["errors"][0]["loc"] == ["body", "council_decision"]
    shape = await post(client, sign_as, principals.his, {**exam(nid), "kind": "x-ray"})
    assert shape.status_code == 422 and shape.json()["code"] == "invalid_request"
    assert await outbox_events() == []


async def test_the_cadre_is_named_by_card_or_cccd_and_refused_with_a_reason(
    client: httpx.AsyncClient,
    sign_as: Sign,
    seed_cadre: Any,
    cadre_event: Any,
    principals: SimpleNamespace,
    count_rows: Count,
) -> None:
    await seed_cadre(national_id="068052000003", card_number="LD-68-000003")
    by_card = exam("", card_number="LD-68-000003")
    del by_card["national_id"]
    assert (await post(client, sign_as, principals.his, by_card)).status_code == 201

    async def reason(body: dict[str, Any], principal: Principal = principals.his) -> tuple[list[str | int], str]:
        answer = await post(client, sign_as, principal, body)
        assert answer.status_code == 422, answer.text
        error = answer.json()["errors"][0]
        return error["loc"], error["type"]

    unknown_card = {**by_card, "external_id": "X-2", "card_number": "LD-68-999999"}
    assert await reason(unknown_card) == (["body", "card_number"], "card_unknown")
    assert await reason({**by_card, "external_id": "X-3", "card_number": "?"}) == (["body", "card_number"], "card_invalid")
    assert await reason(exam("12345", external_id="X-4")) == (["body", "national_id"], "national_id_invalid")
    no_identity = {k: v for k, v in by_card.items() if k != "card_number"}
    assert await reason({**no_identity, "external_id": "X-5"}) == (["body", "card_number"], "identity_missing")
    await seed_cadre(national_id="068052000004")
    mismatch = {**by_card, "external_id": "X-6", "national_id": "068052000004"}
    assert await reason(mismatch) == (["body", "national_id"], "identity_mismatch")
    # a facility of Ho Chi Minh City may not post for a cadre managed in Lâm Đồng
    assert await reason(exam("068052000003", external_id="X-7"), principals.his_saigon) == (
        ["body", "national_id"],
        "outside_grants",
    )

    died = await seed_cadre(national_id="068052000005", status=CadreStatus.RETIRED)
    snapshot_dead = {
        "id": died,
        "full_name": "Trần Văn Mất",
        "date_of_birth": "1940-01-01",
        "sex": "male",
        "national_id": "068052000005",
        "tier": "district",
        "status": "deceased",
        "status_since": "2026-02-01",
        "managing_unit": "VN.68.672",
    }
    await cadre_event(CadreDied.model_validate({"cadre": snapshot_dead, "effective_date": "2026-02-01"}), str(died))
    after_death = exam("068052000005", external_id="X-8", occurred_on="2026-02-02")
    assert await reason(after_death) == (["body", "national_id"], "cadre_deceased")
    before_death = exam("068052000005", external_id="X-9", occurred_on="2026-01-20")
    assert (await post(client, sign_as, principals.his, before_death)).status_code == 201
    assert await count_rows(ClinicalRecord) == 2


async def test_bulk_answers_item_by_item_validate_only_and_all_or_nothing(
    client: httpx.AsyncClient,
    sign_as: Sign,
    seed_cadre: Any,
    principals: SimpleNamespace,
    count_rows: Count,
    outbox_events: Events,
) -> None:
    nid = "068052000010"
    cadre_id = await seed_cadre(national_id=nid)
    items: list[dict[str, Any]] = [
        {"kind": "discharge", "admission_external_id": "NT-9", "discharged_on": "2026-02-20", "outcome": "improved"},
        exam(nid, external_id="KSK-9"),
        {
            "kind": "outpatient_visit",
            "external_id": "NGT-9",
            "national_id": nid,
            "occurred_on": "2026-01-03",
            "prescriptions": ["Amlodipin 5mg x 30 viên"],
            "diagnoses": [{"code": "I10"}],
        },
        admission(nid, external_id="NT-9"),
        {"kind": "transfer", "admission_external_id": "NT-9", "on": "2026-02-12", "to_ward": "Hồi sức"},
        {
            "kind": "referral",
            "external_id": "CV-9",
            "national_id": nid,
            "occurred_on": "2026-02-15",
            "referral_kind": "higher_level",
            "to_facility": "BV Chợ Rẫy",
            "decided_by": "Hội đồng chuyên môn",
        },
        {"kind": "home_visit", "external_id": "TN-9", "national_id": nid, "occurred_on": "2026-01-10", "visited_by": ["BS. Lan"]},
        {
            "kind": "consultation",
            "external_id": "HC-9",
            "national_id": nid,
            "occurred_on": "2026-01-11",
            "participants": [{"name": "PGS. Hùng", "role": "chair"}],
            "conclusion": "Theo dõi",
        },
        exam(nid, external_id="KSK-BAD", diagnoses=[{"code": "Q99.9.9"}]),
        {"kind": "periodic_exam", "external_id": "KSK-SHAPE"},
    ]
    headers = sign_as(principals.his)
    checked = await client.post("/his/records/bulk", json={"items": items, "validate_only": True}, headers=headers)
    assert checked.status_code == 200, checked.text
    result = checked.json()
    assert result["stored"] is False and result["counts"] == {"amended": 2, "created": 6, "refused": 2}
    assert await count_rows(ClinicalRecord) == 0

    all_or_nothing = await client.post("/his/records/bulk", json={"items": items, "all_or_nothing": True}, headers=headers)
    assert all_or_nothing.json()["counts"] == {"not_stored": 8, "refused": 2} and not all_or_nothing.json()["stored"]
    assert await count_rows(ClinicalRecord) == 0 and await outbox_events() == []

    stored = (await client.post("/his/records/bulk", json={"items": items}, headers=headers)).json()
    assert stored["stored"] is True
    outcomes = [(i["index"], i["outcome"]) for i in stored["items"]]
    assert outcomes == [
        (0, "amended"), (1, "created"), (2, "created"), (3, "created"), (4, "amended"),
        (5, "created"), (6, "created"), (7, "created"), (8, "refused"), (9, "refused"),
    ]  # fmt: skip
    assert stored["items"][8]["errors"][0]["loc"] == ["diagnoses", 0, "code"]
    assert {tuple(e["loc"]) for e in stored["items"][9]["errors"]} >= {("occurred_on",)}
    assert await count_rows(ClinicalRecord) == 6
    # movements apply after the records of the bulk, in their order: the discharge (item 0) makes version 2
    assert stored["items"][0]["record"]["ended_on"] == "2026-02-20" and stored["items"][0]["record"]["version"] == 2
    assert stored["items"][4]["record"]["version"] == 3

    again = (await client.post("/his/records/bulk", json={"items": items[:8]}, headers=headers)).json()
    assert again["counts"] == {"existed": 8}
    timeline = await client.get(f"/cadres/{cadre_id}/timeline", headers=sign_as(principals.doctor))
    assert [r["kind"] for r in timeline.json()["items"]] == [
        "periodic_exam", "referral", "admission", "consultation", "home_visit", "outpatient_visit",
    ]  # fmt: skip
    assert timeline.headers["x-audit-subjects"] == str(cadre_id)
    nt9 = next(r for r in timeline.json()["items"] if r["kind"] == "admission")
    assert nt9["data"]["transfers"][0]["to_ward"] == "Hồi sức" and nt9["data"]["discharge"]["outcome"] == "improved"
    too_many = await client.post("/his/records/bulk", json={"items": [items[1]] * 1001}, headers=headers)
    assert too_many.status_code == 422


async def test_a_discharge_before_its_admission_is_refused_then_matched_once_the_admission_exists(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, outbox_events: Events
) -> None:
    nid = "068052000020"
    await seed_cadre(national_id=nid)
    discharge = {"kind": "discharge", "admission_external_id": "NT-20", "discharged_on": "2026-02-20", "outcome": "recovered"}
    early = await post(client, sign_as, principals.his, discharge)
    assert early.status_code == 422
    assert early.json()["errors"][0]["type"] == "admission_unknown"
    assert (await post(client, sign_as, principals.his, admission(nid, external_id="NT-20"))).status_code == 201
    before = await post(client, sign_as, principals.his, {**discharge, "discharged_on": "2026-02-01"})
    assert before.json()["errors"] == [
        {
            "loc": ["body", "discharged_on"],
            "msg": "the discharge (2026-02-01) is before the admission (2026-02-10)",
            "type": "discharge_before_admission",
        }
    ]
    matched = await post(client, sign_as, principals.his, discharge)
    assert matched.json()["outcome"] == "amended" and matched.json()["record"]["ended_on"] == "2026-02-20"
    assert (await post(client, sign_as, principals.his, discharge)).json()["outcome"] == "existed"
    events = await outbox_events()
    assert events[-1][1]["change"] == "discharge" and events[-1][1]["record"]["discharge_outcome"] == "recovered"


async def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    nid = "068052000040"
    await seed_cadre(national_id=nid)
    first = await post(client, sign_as, principals.his, exam(nid), **{"idempotency-key": "k-1"})
    replay = await post(client, sign_as, principals.his, exam(nid), **{"idempotency-key": "k-1"})
    assert first.status_code == replay.status_code == 201 and first.json() == replay.json()
    other = await post(client, sign_as, principals.his, exam(nid, external_id="KSK-2"), **{"idempotency-key": "k-1"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    bulk = {"items": [exam(nid, external_id="KSK-3")]}
    headers = {**sign_as(principals.his), "idempotency-key": "k-2"}
    one = await client.post("/his/records/bulk", json=bulk, headers=headers)
    two = await client.post("/his/records/bulk", json=bulk, headers=headers)
    assert one.json() == two.json() and one.json()["counts"] == {"created": 1}


async def test_the_future_starts_tomorrow_in_vietnam_even_while_utc_is_still_on_yesterday(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    nid = "068052000100"
    await seed_cadre(national_id=nid)
    with clock.frozen_at(datetime(2026, 3, 9, 18, 0, tzinfo=UTC)):  # 01:00 on 10 March in Hà Nội
        today = await post(client, sign_as, principals.his, exam(nid, external_id="T-1", occurred_on="2026-03-10"))
        assert today.status_code == 201, today.text
        tomorrow = await post(client, sign_as, principals.his, exam(nid, external_id="T-2", occurred_on="2026-03-11"))
    assert tomorrow.status_code == 422
    assert tomorrow.json()["errors"] == [
        {
            "loc": ["body", "occurred_on"],
            "msg": "2026-03-11 is in the future (today is 2026-03-10 in Vietnam)",
            "type": "date_in_future",
        }
    ]
