"""The dashboard's lists and facility activity on SQLite and PostgreSQL: cadres not yet examined and abnormal
findings without a follow-up (person-level: read grants only, every cadre listed named to the audit trail,
exportable to XLSX), and per facility its latest encounter and its months."""

import uuid
from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import load_workbook
from reporting_testkit import ADMIN, CENTRAL, DALAT, LAMDONG, World, record

from contracts.enums import EncounterKind
from contracts.events.clinical import ClinicalRecordRecorded, RecordSummary
from contracts.scope import Principal

H1_2023 = {"period_start": "2023-01-01", "period_end": "2023-06-30"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def get(world: World, who: Principal, path: str, **params: str) -> Any:
    return await world.http.get(path, params=params, headers=world.sign(who))


async def test_cadres_not_yet_examined_are_listed_audited_and_exported(world: World) -> None:
    answer = await get(world, LAMDONG, "/lists/not-examined", unit="VN.68", **H1_2023)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    listed = {r["cadre_id"] for r in body["rows"]}
    # 19 under care on 30 June: 9 examined; the two no-shows, the cancelled one, group 1 and the district's five not
    assert body["total"] == 10 and len(listed) == 10
    assert {str(c.id) for c in world.p2[:9]}.isdisjoint(listed) and {str(c.id) for c in world.p2[9:]} <= listed
    assert {str(c.id) for c in world.district} <= listed
    assert set(answer.headers["x-audit-subjects"].split(",")) == listed
    no_show = next(r for r in body["rows"] if r["cadre_id"] == str(world.p2[10].id))
    assert (no_show["invited_on"], no_show["invitation_status"]) == ("2023-04-10", "no_show")
    assert no_show["unit_name"] == "Tỉnh Lâm Đồng"

    dalat = (await get(world, DALAT, "/lists/not-examined", unit="VN.68.672", **H1_2023)).json()
    assert {r["cadre_id"] for r in dalat["rows"]} == {str(c.id) for c in world.district}
    assert {r["unit_name"] for r in dalat["rows"]} == {"Thành phố Đà Lạt"}
    limited = (await get(world, LAMDONG, "/lists/not-examined", unit="VN.68", limit="3", **H1_2023)).json()
    assert (limited["total"], len(limited["rows"])) == (10, 3)

    export = await get(world, LAMDONG, "/lists/not-examined", unit="VN.68", format="xlsx", **H1_2023)
    assert export.status_code == 200 and export.headers["content-type"] == XLSX
    assert set(export.headers["x-audit-subjects"].split(",")) == listed
    sheet = load_workbook(BytesIO(export.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "Mã cán bộ" and {r[0] for r in rows[2:]} == listed and "01/01/2023" in str(rows[0][0])


async def test_abnormal_findings_without_a_follow_up(world: World) -> None:
    body = (await get(world, LAMDONG, "/lists/abnormal-findings", unit="VN.68", **H1_2023)).json()
    assert {r["cadre_id"] for r in body["rows"]} == {str(world.p2[7].id), str(world.p2[8].id)}  # the two C
    assert {r["classification"] for r in body["rows"]} == {"C"} and body["rows"][0]["facility"] == "68-BVDK"

    await record(world.feed, world.p2[7], EncounterKind.OUTPATIENT_VISIT, date(2023, 5, 20))  # followed up
    flagged = await record(world.feed, world.p2[0], EncounterKind.OUTPATIENT_VISIT, date(2023, 6, 15), needs_follow_up=True)
    answer = await get(world, LAMDONG, "/lists/abnormal-findings", unit="VN.68", **H1_2023)
    body = answer.json()
    assert {r["record_id"] for r in body["rows"] if r["cadre_id"] == str(world.p2[0].id)} == {str(flagged.record_id)}
    assert {r["cadre_id"] for r in body["rows"]} == {str(world.p2[8].id), str(world.p2[0].id)} and body["total"] == 2
    assert set(answer.headers["x-audit-subjects"].split(",")) == {str(world.p2[8].id), str(world.p2[0].id)}

    export = await get(world, LAMDONG, "/lists/abnormal-findings", unit="VN.68", format="xlsx", **H1_2023)
    sheet = load_workbook(BytesIO(export.content)).active
    assert sheet is not None
    assert len(list(sheet.iter_rows(min_row=3, values_only=True))) == 2 and export.headers["x-audit-subjects"]


async def test_lists_need_a_read_grant_and_stay_in_scope(world: World) -> None:
    assert (await get(world, LAMDONG, "/lists/abnormal-findings", unit="VN.52", **H1_2023)).status_code == 404
    assert (await get(world, DALAT, "/lists/not-examined", unit="VN.68.673", **H1_2023)).status_code == 404
    # the provincial board reads Bình Định's central-tier cadre only with the central tier's health-record flag
    central = await get(world, CENTRAL, "/lists/abnormal-findings", unit="VN.52", **H1_2023)
    assert [r["tier"] for r in central.json()["rows"]] == ["central"]
    wider = await get(world, DALAT, "/lists/abnormal-findings", unit="VN.68", **H1_2023)
    assert wider.json()["rows"] == [] and wider.headers["x-audit-subjects"] == ""  # nobody of its own: none named
    bad = await get(world, LAMDONG, "/lists/not-examined", unit="VN.68", format="pdf")
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "format"]


async def test_facility_activity_flags_a_silent_hospital(world: World) -> None:
    cadre = world.p2[1]
    elsewhere = RecordSummary(
        record_id=uuid.uuid4(),
        version=1,
        kind=EncounterKind.OUTPATIENT_VISIT,
        cadre_id=cadre.id,
        facility="68-TTYT-DL",
        external_id="dl-1",
        occurred_on=date(2023, 1, 5),
    )
    await world.feed.send(
        ClinicalRecordRecorded(record=elsewhere), subject=str(cadre.id), managing_unit=cadre.managing_unit, tier=cadre.tier
    )
    answer = await get(world, ADMIN, "/facility-activity", unit="VN.68", as_of="2023-06-30")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["months"] == ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]
    assert body["silent_after_days"] == 30
    rows = {r["facility"]: r for r in body["rows"]}
    quiet, busy = rows["68-TTYT-DL"], rows["68-BVDK"]
    assert (quiet["last_record_on"], quiet["days_silent"], quiet["silent"]) == ("2023-01-05", 176, True)
    assert (busy["last_record_on"], busy["silent"]) == ("2023-06-01", False)
    assert [m["encounters"] for m in busy["months"]] == [0, 2, 4, 9, 4, 1]  # the withdrawn exam counts nowhere
    assert body["rows"][0]["facility"] == "68-TTYT-DL"  # the silent first
    later = (await get(world, ADMIN, "/facility-activity", unit="VN.68", as_of="2023-08-15")).json()
    assert all(r["silent"] for r in later["rows"])
    dalat = (await get(world, DALAT, "/facility-activity", unit="VN.68.672", as_of="2023-06-30")).json()
    assert [(r["facility"], r["encounters"]) for r in dalat["rows"]] == [("68-BVDK", 1)]
    assert (await get(world, LAMDONG, "/facility-activity", unit="VN.52")).status_code == 404
