"""The most sensitive tier: a central-tier cadre's health records are read only through a grant with the
central-tier health-records flag (servicekit.scope.health_records_readable), and their events carry no
diagnosis text. On SQLite and PostgreSQL."""

import json
import uuid
from types import SimpleNamespace
from typing import Any

import httpx
from clinical_testkit import Events, Sign, exam, post

from contracts.enums import PROVINCIAL_TIERS, Action, ManagementTier
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, PrincipalKind

CENTRAL_NID, DISTRICT_NID = "068052000310", "068052000311"
# Texts a HIS writes that name or describe a diagnosis: none of them may reach the bus for a central-tier cadre.
DIAGNOSIS_TEXTS = ("Ung thư phổi thùy trên", "Tăng huyết áp độ 2", "nghi di căn não", "sai chẩn đoán C34")

# As contracts.roles.provincial_board("VN.68") grants them: the central tier is among its READ tiers.
LAMDONG_STAFF = Principal(
    subject="user:lamdong",
    kind=PrincipalKind.STAFF,
    grants=(
        Grant(
            unit_path="VN.68",
            tiers=PROVINCIAL_TIERS | {ManagementTier.CENTRAL, ManagementTier.TREATMENT_ONLY},
            actions=frozenset({Action.READ, Action.WRITE}),
        ),
        Grant(unit_path="VN.68", tiers=frozenset({ManagementTier.DISTRICT}), actions=frozenset({Action.READ})),
    ),
    permissions=frozenset({Permission.CLINICAL_READ}),
)
FLAG = Grant(
    unit_path="VN.68",
    tiers=frozenset({ManagementTier.CENTRAL}),
    actions=frozenset({Action.READ}),
    central_tier_health_records=True,
)
LAMDONG_STAFF_WITH_FLAG = LAMDONG_STAFF.model_copy(update={"grants": (*LAMDONG_STAFF.grants, FLAG)})


def sensitive_exam(national_id: str, external_id: str) -> dict[str, Any]:
    return exam(
        national_id,
        external_id=external_id,
        diagnoses=[
            {"code": "C34.1", "description": DIAGNOSIS_TEXTS[0], "primary": True},
            {"code": "I11", "description": DIAGNOSIS_TEXTS[1]},
        ],
        notes=DIAGNOSIS_TEXTS[2],
    )


async def seed_two(seed_cadre: Any, client: httpx.AsyncClient, sign_as: Sign, his: Principal) -> SimpleNamespace:
    """A central-tier cadre managed by the province and a district-tier one in Đà Lạt, one exam each."""
    central = await seed_cadre(national_id=CENTRAL_NID, tier=ManagementTier.CENTRAL, managing_unit="VN.68")
    district = await seed_cadre(national_id=DISTRICT_NID)
    central_exam = await post(client, sign_as, his, sensitive_exam(CENTRAL_NID, "TW-1"))
    district_exam = await post(client, sign_as, his, sensitive_exam(DISTRICT_NID, "DP-1"))
    assert central_exam.status_code == district_exam.status_code == 201, central_exam.text
    return SimpleNamespace(
        central=central,
        district=district,
        central_record=central_exam.json()["record"]["id"],
        district_record=district_exam.json()["record"]["id"],
    )


def person_level_reads(cadre: uuid.UUID, record: str) -> list[str]:
    return [f"/cadres/{cadre}/timeline", f"/cadres/{cadre}/conditions", f"/records/{record}", f"/records/{record}/versions"]


async def test_without_the_flag_a_central_tier_cadres_health_records_are_out_of_scope(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    seeded = await seed_two(seed_cadre, client, sign_as, principals.his)
    for reader in (LAMDONG_STAFF, principals.doctor):  # the doctor reads every tier of the province, unflagged
        headers = sign_as(reader)
        for path in person_level_reads(seeded.central, seeded.central_record):
            answer = await client.get(path, headers=headers)
            assert answer.status_code == 404, (reader.subject, path, answer.text)  # as if out of scope: nothing told
        for path in person_level_reads(seeded.district, seeded.district_record):
            assert (await client.get(path, headers=headers)).status_code == 200, (reader.subject, path)
        timeline = (await client.get(f"/cadres/{seeded.district}/timeline", headers=headers)).json()
        assert [r["external_id"] for r in timeline["items"]] == ["DP-1"]
    # The summary counts the cadres one may know of (the registry's scope), and says nothing of anyone's health.
    summary = await client.get("/patients/summary", headers=sign_as(LAMDONG_STAFF))
    assert summary.json()["cadres"] == 2


async def test_with_the_flag_the_central_tier_cadres_records_are_read_like_any_other(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    seeded = await seed_two(seed_cadre, client, sign_as, principals.his)
    headers = sign_as(LAMDONG_STAFF_WITH_FLAG)
    for path in person_level_reads(seeded.central, seeded.central_record):
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["x-audit-subjects"] == str(seeded.central)  # a person-level read, audited
    timeline = (await client.get(f"/cadres/{seeded.central}/timeline", headers=headers)).json()
    assert [r["external_id"] for r in timeline["items"]] == ["TW-1"]
    conditions = (await client.get(f"/cadres/{seeded.central}/conditions", headers=headers)).json()
    assert [c["group"] for c in conditions["conditions"]] == ["hypertension", "cancer"]
    assert (await client.get(f"/cadres/{seeded.district}/timeline", headers=headers)).json()["total"] == 1
    elsewhere = LAMDONG_STAFF_WITH_FLAG.model_copy(
        update={"grants": (FLAG.model_copy(update={"unit_path": "VN.79"}),)}
    )  # the flag on another province opens nothing here
    assert (await client.get(f"/cadres/{seeded.central}/timeline", headers=sign_as(elsewhere))).status_code == 404


async def test_the_facility_that_posted_a_central_tier_record_still_reads_it_back(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    """A HIS reading back its own submissions is not a board reading the cadre's history: no flag needed."""
    seeded = await seed_two(seed_cadre, client, sign_as, principals.his)
    headers = sign_as(principals.his)
    own = await client.get("/his/records/lookup", params={"external_id": "TW-1"}, headers=headers)
    assert own.status_code == 200 and own.json()["id"] == seeded.central_record
    versions = await client.get("/his/records/versions", params={"external_id": "TW-1"}, headers=headers)
    assert [v["version"] for v in versions.json()] == [1]
    other = await client.get("/his/records/lookup", params={"external_id": "TW-1"}, headers=sign_as(principals.his_saigon))
    assert other.status_code == 404


async def test_a_central_tier_cadres_events_carry_no_diagnosis_text_and_a_district_ones_are_unchanged(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, outbox_events: Events
) -> None:
    await seed_two(seed_cadre, client, sign_as, principals.his)
    headers = sign_as(principals.his)
    for external_id, nid in (("TW-1", CENTRAL_NID), ("DP-1", DISTRICT_NID)):
        corrected = {**sensitive_exam(nid, external_id), "conclusion": DIAGNOSIS_TEXTS[1]}
        assert (await post(client, sign_as, principals.his, corrected)).json()["outcome"] == "amended"
        withdrawal = {"external_id": external_id, "reason": DIAGNOSIS_TEXTS[3]}
        assert (await client.post("/his/records/withdraw", json=withdrawal, headers=headers)).json()["outcome"] == "withdrawn"

    events = await outbox_events()
    by_record = {
        external_id: [
            (kind.rsplit(".", 1)[1], payload) for kind, payload in events if payload["record"]["external_id"] == external_id
        ]
        for external_id in ("TW-1", "DP-1")
    }
    for external_id in by_record:
        assert [kind for kind, _ in by_record[external_id]] == ["recorded", "amended", "withdrawn"]
        for _, payload in by_record[external_id]:
            assert payload["record"]["diagnoses"] == ["C34.1", "I11"]  # codes stay: reporting groups them
            assert payload["record"]["chronic_groups"] == ["hypertension", "cancer"]

    central_text = json.dumps([payload for _, payload in by_record["TW-1"]], ensure_ascii=False)
    assert not [text for text in DIAGNOSIS_TEXTS if text in central_text]
    central_withdrawal, district_withdrawal = by_record["TW-1"][-1][1], by_record["DP-1"][-1][1]
    assert (central_withdrawal["reason"], central_withdrawal["reason_withheld"]) == ("", True)
    assert (district_withdrawal["reason"], district_withdrawal["reason_withheld"]) == (DIAGNOSIS_TEXTS[3], False)
    district_text = json.dumps([payload for _, payload in by_record["DP-1"][:-1]], ensure_ascii=False)
    assert not [text for text in DIAGNOSIS_TEXTS if text in district_text]  # no tier's summary carries diagnosis text
