"""QĐ 130 XML through the one ingestion core: envelopes of both field sets, idempotency and amendment,
tables arriving apart, referral and re-exam, signatures (SQLite and PostgreSQL)."""

import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from xml130_fixtures import HIS_SIGNING, post_xml, xml130_app

from clinical.tables import ClinicalRecord, Xml130File
from devstack.xml130_samples import Patient, Signer, encounter, envelope, sign, table_xml, throwaway_ca

SIGNER = throwaway_ca()


@pytest.fixture
async def app(database_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path) -> AsyncIterator[FastAPI]:
    async for application in xml130_app(database_url, internal_keys[1], tmp_path, SIGNER):
        yield application


@pytest.fixture
def signer() -> Signer:
    return SIGNER


async def test_an_envelope_becomes_a_visit_then_existed_then_a_new_version(
    client: Any, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    await seed_cadre(national_id="068052000111")
    headers = sign_as(principals.his)
    tables = encounter("68001_2026_03_0001", Patient("068052000111"))
    first = await post_xml(client, headers, envelope([tables]))
    assert first["counts"] == {"created": 1}
    [item] = first["items"]
    assert item["ma_lk"] == "68001_2026_03_0001" and item["tables"] == ["XML1", "XML2", "XML3", "XML4"]
    assert [r["kind"] for r in item["records"]] == ["outpatient_visit"]

    record = (await client.get("/his/records/lookup", params={"external_id": "68001_2026_03_0001"}, headers=headers)).json()
    data = record["data"]
    assert [d["code"] for d in data["diagnoses"]] == ["I10", "E11.9", "E78.5"] and data["diagnoses"][0]["primary"]
    assert {m["code"] for m in data["medications"]} == {"40.18", "40.677", "40.575", "40.1063"} and len(data["medications"]) == 30
    assert len(data["services"]) == 30 and data["results"][0] == {"code": "weight", "value": 62.5, "unit": "kg"} | {
        "name": None, "reference_range": None, "abnormal": None}  # fmt: skip
    assert data["results"][1]["code"] == "CS0" and data["results"][1]["value"] == 5.0 and data["occurred_on"] == "2026-03-04"

    again = await post_xml(client, headers, envelope([tables]))
    assert again["counts"] == {"existed": 1} and again["items"][0]["records"] == item["records"]

    tables["XML2"][0]["MA_THUOC"] = "40.999"
    changed = await post_xml(client, headers, envelope([tables]))
    assert changed["counts"] == {"amended": 1} and changed["items"][0]["changed_tables"] == ["XML2"]
    assert changed["items"][0]["records"][0]["version"] == 2


async def test_3176_raw_children_and_a_cadre_named_by_the_bhyt_card_only(
    client: Any, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Any
) -> None:
    await seed_cadre(national_id="068052000222", bhyt_number="HT3680123456789")
    await seed_cadre(national_id="068052000333")
    by_card = encounter("LK-3176-1", Patient(None, bhyt="DN4790000000001;HT3680123456789"), version="3176")
    by_card["XML1"][0]["MA_MOI_3176"] = "x"  # an element the importer does not know: ignored, reported
    by_cccd_as_card = encounter("LK-3176-2", Patient("", bhyt=None), version="3176", MA_THE_BHYT="068052000333")
    answer = await post_xml(client, sign_as(principals.his), envelope([by_card, by_cccd_as_card], raw_children=True))
    assert answer["counts"] == {"created": 2}
    assert answer["items"][0]["ignored"] == ["XML1/MA_MOI_3176"]
    assert await count_rows(ClinicalRecord) == 2


async def test_an_admission_with_referral_and_re_exam(
    client: Any, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, outbox_events: Any
) -> None:
    await seed_cadre(national_id="068052000444")
    tables = encounter(
        "LK-NT-1", Patient("068052000444"), lines=3, MA_LOAI_KCB="03", NGAY_VAO_NOI_TRU="202603010900",
        NGAY_RA="202603050900", MA_LOAI_RV=2, MA_NOI_DEN="79001", KET_QUA_DTRI=2, MA_KHOA="K02;K03",
    )  # fmt: skip
    tables["XML5"] = [{"MA_LK": "LK-NT-1", "STT": 1, "DIEN_BIEN_LS": "M 80, HA 150/90", "THOI_DIEM_DBLS": "202603020800"}]
    tables["XML7"] = [{"MA_LK": "LK-NT-1", "MA_KHOA_RV": "K03", "NGAY_RA": "202603050900", "PP_DIEUTRI": "nội khoa"}]
    tables["XML13"] = [{"MA_LK": "LK-NT-1", "MA_CSKCB": "68001", "MA_NOI_DEN": "79001", "MA_BENH_CHINH": "I25.1",
                        "NGAY_RA": "202603050900", "MA_LYDO_CT": 2, "CHAN_DOAN_RV": "Bệnh tim thiếu máu cục bộ"}]  # fmt: skip
    tables["XML14"] = [{"MA_LK": "LK-NT-1", "SO_GIAYHEN_KL": "HK-12", "NGAY_HEN_KL": "202604050800"}]
    answer = await post_xml(client, sign_as(principals.his), envelope([tables]))
    assert answer["counts"] == {"created": 1}
    admission, referral = answer["items"][0]["records"]
    assert (admission["kind"], admission["occurred_on"], admission["ended_on"]) == ("admission", "2026-03-01", "2026-03-05")
    assert (referral["kind"], referral["external_id"]) == ("referral", "LK-NT-1#CT")
    record = (await client.get("/his/records/lookup", params={"external_id": "LK-NT-1"}, headers=sign_as(principals.his))).json()
    assert record["data"]["ward"] == "K03" and record["data"]["discharge"]["outcome"] == "transferred"
    assert record["data"]["follow_ups"][0]["due_by"] == "2026-04-05" and record["needs_follow_up"]
    assert record["data"]["progress_notes"][0]["note"] == "M 80, HA 150/90"
    events = [payload["record"] for kind, payload in await outbox_events() if kind.endswith("recorded")]
    assert {(e["kind"], e.get("referral_kind")) for e in events} == {("admission", None), ("referral", "higher_level")}


async def test_tables_of_one_encounter_in_separate_uploads(
    client: Any, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, app: FastAPI
) -> None:
    await seed_cadre(national_id="068052000555")
    headers = sign_as(principals.his)
    tables = encounter("LK-APART", Patient("068052000555"), lines=2)
    orphan = await post_xml(client, headers, envelope([{"XML2": tables["XML2"]}]))
    assert orphan["items"][0]["errors"][0]["type"] == "table_missing"
    first = await post_xml(client, headers, envelope([{"XML1": tables["XML1"]}]))
    assert first["counts"] == {"created": 1}
    later = await post_xml(client, headers, envelope([{"XML2": tables["XML2"], "XML4": tables["XML4"]}]))
    assert later["counts"] == {"amended": 1} and later["items"][0]["changed_tables"] == ["XML2", "XML4"]
    async with app.state.runtime.db.transaction() as session:
        files = (await session.execute(select(Xml130File.table_name, Xml130File.content))).all()  # type: ignore[call-overload]
    assert sorted(name for name, _ in files) == ["XML1", "XML2", "XML4"]
    assert {zlib.decompress(content) for _, content in files} >= {table_xml("XML1", tables["XML1"])}


async def test_a_signature_is_required_where_the_facility_says_so(
    client: Any, sign_as: Any, seed_cadre: Any, signer: Signer, count_rows: Any
) -> None:
    await seed_cadre(national_id="068052000666")
    headers = sign_as(HIS_SIGNING)
    document = envelope([encounter("LK-SIGN-1", Patient("068052000666"), lines=2, ma_cskcb="68002")], ma_cskcb="68002")
    unsigned = await post_xml(client, headers, document)
    assert (
        unsigned["items"][0]["errors"][0]["type"] == "signature_invalid"
        and "not signed" in unsigned["items"][0]["errors"][0]["msg"]
    )
    tampered = sign(document, signer).replace(b"<NGAYLAP>20260305", b"<NGAYLAP>20260306")
    assert (await post_xml(client, headers, tampered))["items"][0]["errors"][0]["type"] == "signature_invalid"
    other = throwaway_ca("someone else")
    assert (await post_xml(client, headers, sign(document, other)))["items"][0]["errors"][0]["type"] == "signature_invalid"
    assert await count_rows(ClinicalRecord) == 0
    signed = await post_xml(client, headers, sign(document, signer))
    assert signed["counts"] == {"created": 1}
    assert await count_rows(ClinicalRecord) == 1


async def test_check_in_files_are_acknowledged_and_store_nothing(
    client: Any, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Any
) -> None:
    await seed_cadre(national_id="068052000777")
    rows = "".join(
        f"<TRANG_THAI_KCB><MA_LK>CI-{i}</MA_LK><STT>{i}</STT><SO_CCCD>{nid}</SO_CCCD><MA_CSKCB>68001</MA_CSKCB>"
        f"<NGAY_VAO>202603040800</NGAY_VAO><MA_LOAI_KCB>01</MA_LOAI_KCB></TRANG_THAI_KCB>"
        for i, nid in enumerate(["068052000777", "001099000001"])
    )
    document = (
        f"<CHI_TIEU_TRANG_THAI_KCB><DSACH_TRANG_THAI_KCB>{rows}</DSACH_TRANG_THAI_KCB><CHUKYDONVI/></CHI_TIEU_TRANG_THAI_KCB>"
    )
    answer = await post_xml(client, sign_as(principals.his), document.encode())
    assert [i["outcome"] for i in answer["items"]] == ["checked_in", "not_a_cadre"]
    assert await count_rows(ClinicalRecord) == 0 and await count_rows(Xml130File) == 0
