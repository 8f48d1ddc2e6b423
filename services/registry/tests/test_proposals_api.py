"""Proposed beneficiaries on SQLite and PostgreSQL: propose, appraise, approve or reject, each step its permission."""

from registry_testkit import ADMIN_PERMISSIONS, DALAT, LAMDONG, Api, cadre_body, principal

from contracts.scope import Grant


async def test_proposed_beneficiaries_workflow_with_permissions(api: Api) -> None:
    proposal = {**cadre_body(tier="provincial_3"), "justification": "Giám đốc Sở, đủ tiêu chuẩn đối tượng 3 (Quy định 08-QĐ/TU)"}
    created = await api.post("/proposals", LAMDONG, json=proposal)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert (await api.post(f"/proposals/{pid}/approval", LAMDONG, json={"reason": "đồng ý"})).status_code == 403
    early = await api.post(f"/proposals/{pid}/approval", json={"reason": "đồng ý"})
    assert early.status_code == 422 and early.json()["errors"][0]["loc"] == ["status"]
    appraised = await api.post(f"/proposals/{pid}/appraisal", LAMDONG, json={"recommend": True, "note": "Hồ sơ đầy đủ"})
    assert appraised.json()["status"] == "appraised"
    approved = await api.post(f"/proposals/{pid}/approval", json={"reason": "Ban Thường vụ đồng ý"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    cadre = await api.get(f"/cadres/{approved.json()['cadre_id']}", LAMDONG)
    assert cadre.status_code == 200 and cadre.json()["tier"] == "provincial_3"
    other = await api.post("/proposals", LAMDONG, json={**cadre_body(), "justification": "đề nghị bổ sung"})
    rejected = await api.post(f"/proposals/{other.json()['id']}/rejection", json={"reason": "Không thuộc diện"})
    assert rejected.json()["status"] == "rejected" and rejected.json()["decision_reason"] == "Không thuộc diện"
    assert (await api.post("/proposals", DALAT, json=proposal)).status_code == 403
    outsider = principal(
        "other", (Grant(unit_path="VN.67", tiers=LAMDONG.grants[0].tiers, actions=LAMDONG.grants[0].actions),), ADMIN_PERMISSIONS
    )
    assert (await api.get("/proposals", outsider)).json() == []
