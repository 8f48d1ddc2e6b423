"""QĐ 130 reading and mapping without I/O: safe parsing, the envelope's shapes, codes into the core's commands."""

import base64
from datetime import date
from typing import Any

import pytest
from lxml import etree
from pydantic import ValidationError

from clinical import domain
from clinical.settings import ClinicalSettings
from clinical.xml130 import mapping, parsing
from clinical.xml130.parsing import XmlProblem, decode_inner, parse_document, parse_envelope, split_zip
from contracts.api.clinical import MedicationLine, OutpatientVisitIn
from devstack.xml130_samples import Patient, encounter, envelope, table_xml

TODAY = date(2026, 3, 10)


def tables_of(**x1: object) -> dict[str, list[dict[str, str | None]]]:
    raw = encounter("LK-1", Patient("068052000111"), lines=2, **x1)
    return {name: [{k: (None if v is None else str(v)) for k, v in row.items()} for row in rows] for name, rows in raw.items()}


def test_entities_and_dtds_are_refused_and_nothing_is_fetched() -> None:
    external = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:1/x">]><TONG_HOP>&e;</TONG_HOP>'
    for document in (external, b'<!DOCTYPE TONG_HOP SYSTEM "file:///etc/passwd"><TONG_HOP/>'):
        with pytest.raises(XmlProblem) as caught:
            parse_document(document, "XML1")
        assert caught.value.type == "xml_dtd_forbidden"
    deep = b"<a>" * 300 + b"</a>" * 300  # beyond libxml2's depth limit without huge_tree
    with pytest.raises(XmlProblem):
        parse_document(deep, "XML1")
    assert (
        parse_document(b"\xef\xbb\xbf<TONG_HOP><HO_TEN><![CDATA[L\xc3\xaa <A>]]></HO_TEN></TONG_HOP>", "XML1")[0].text == "Lê <A>"
    )


def test_an_envelope_with_base64_files_a_zip_bomb_cap_and_ignored_tables() -> None:
    tables = encounter("LK-1", Patient("068052000111"), lines=2)
    tables["XML8"] = [{"MA_LK": "LK-1"}]
    document = envelope([tables], files={(0, "XML8"): b"<CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN/>"})
    parsed = parse_envelope(document)
    [hoso] = parsed.encounters
    assert parsed.ma_cskcb == "68001" and not parsed.signed and hoso.problem is None and hoso.ma_lk == "LK-1"
    assert sorted(hoso.tables) == ["XML1", "XML2", "XML3", "XML4"] and hoso.ignored == ["XML8"]
    assert hoso.tables["XML1"].rows[0]["HO_TEN"] == "Nguyễn Văn Đức" and len(hoso.tables["XML2"].rows) == 2
    assert hoso.tables["XML1"].raw == table_xml("XML1", tables["XML1"])
    with pytest.raises(XmlProblem) as caught:
        split_zip(b"not a zip")
    assert caught.value.type == "zip_invalid"


def test_a_hoso_with_mixed_ma_lk_or_a_missing_required_element_is_refused_alone() -> None:
    mixed = encounter("LK-1", Patient("1"), lines=1)
    mixed["XML2"][0]["MA_LK"] = "LK-2"
    missing = encounter("LK-3", Patient("1"), lines=1, NGAY_VAO=None)
    not_xml = base64.b64encode(b"just text").decode()
    document = envelope([mixed, missing, encounter("LK-4", Patient("1"), lines=1)])
    document = document.replace(
        base64.b64encode(table_xml("XML3", encounter("LK-4", Patient("1"), lines=1)["XML3"])), not_xml.encode()
    )
    problems = [(e.problem.where, e.problem.type) if e.problem else None for e in parse_envelope(document).encounters]
    assert problems == [("XML2", "ma_lk_mismatch"), ("XML1", "element_missing"), ("XML3", "base64_not_xml")]


def noidungfile(text: str) -> etree._Element:
    content = etree.Element("NOIDUNGFILE")
    content.text = text
    return content


def test_inner_files_decode_with_line_breaks_and_bad_base64_is_located(monkeypatch: pytest.MonkeyPatch) -> None:
    inner = table_xml("XML1", encounter("LK-1", Patient("068052000111"), lines=1)["XML1"])
    wrapped = base64.encodebytes(inner).decode()  # MIME style, a line break every 76 characters
    assert "\n" in wrapped.strip() and decode_inner(noidungfile(wrapped), "XML1") == inner
    for text, expected in (("PD94bWw", "base64_invalid"), ("PD94bWwg\u00e9", "base64_invalid"), (" \r\n ", "file_empty")):
        with pytest.raises(XmlProblem) as caught:
            decode_inner(noidungfile(text), "XML1")
        assert (caught.value.where, caught.value.type) == ("XML1", expected)
    monkeypatch.setattr(parsing, "MAX_INNER_BYTES", len(inner) - 1)
    with pytest.raises(XmlProblem) as caught:
        decode_inner(noidungfile(wrapped), "XML1")
    assert caught.value.type == "file_too_large"


def test_outpatient_mapping_keeps_codes_and_reads_dates_as_vietnam_time() -> None:
    mapped = mapping.map_encounter(tables_of(), "68001", "068052000111", TODAY)
    assert not mapped.errors
    [visit] = mapped.commands
    assert visit["kind"] == "outpatient_visit" and visit["occurred_on"] == date(2026, 3, 4) and visit["department"] == "K01"
    assert [d["code"] for d in visit["diagnoses"]] == ["I10", "E11.9", "E78.5"]
    assert (
        visit["medications"][0]["code"] == "40.18"
        and visit["medications"][0]["ordered_at"].utcoffset().total_seconds() == 7 * 3600
    )
    assert visit["results"][0] == {"code": "weight", "value": 62.5, "unit": "kg"}


@pytest.mark.parametrize(
    ("kind", "rv", "result", "outcome"),
    [
        ("03", "1", "1", "recovered"),
        ("04", "1", "8", "died"),
        ("09", "4", "2", "left_against_advice"),
        ("06", "5", "2", "transferred"),
    ],
)
def test_inpatient_types_become_admissions_with_their_discharge(kind: str, rv: str, result: str, outcome: str) -> None:
    mapped = mapping.map_encounter(tables_of(MA_LOAI_KCB=kind, MA_LOAI_RV=rv, KET_QUA_DTRI=result), "68001", "1", TODAY)
    admission = mapped.commands[0]
    assert admission["kind"] == "admission" and admission["discharge"]["outcome"] == outcome
    assert len(mapped.commands) == 1  # no referral without a destination (MA_NOI_DEN) or an XML13


def test_referral_kind_follows_the_facility_codes() -> None:
    in_province = mapping.map_encounter(tables_of(MA_LOAI_RV="2", MA_NOI_DEN="68002"), "68001", "1", TODAY)
    elsewhere = mapping.map_encounter(tables_of(MA_LOAI_RV="5", MA_NOI_DEN="79001"), "68001", "1", TODAY)
    assert in_province.commands[1]["referral_kind"] == "in_province" and in_province.commands[1]["external_id"] == "LK-1#CT"
    assert elsewhere.commands[1]["referral_kind"] == "higher_level" and elsewhere.commands[1]["to_facility"] == "79001"


def test_bad_dates_and_future_dates_are_located_in_the_xml() -> None:
    mapped = mapping.map_encounter(tables_of(NGAY_VAO="2026-03-04", NGAY_RA="202612310800"), "68001", "1", TODAY)
    assert [(e.loc, e.type) for e in mapped.errors] == [
        (["XML1", "NGAY_VAO"], "date_invalid"),
        (["XML1", "NGAY_RA"], "date_in_future"),
        (["XML1", "NGAY_VAO"], "date_invalid"),
    ]
    assert mapping.xml_loc(mapped, 0, ["diagnoses", 2, "code"]) == ["XML1", "MA_BENH_KT"]
    assert mapping.xml_loc(mapped, 0, ["medications", 3, "code"]) == ["XML2", 3, "code"]


def test_signatures_are_required_in_production() -> None:
    production: dict[str, Any] = {"environment": "production", "database_url": "postgresql+asyncpg://h/db?ssl=require",
                  "kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "u", "kafka_sasl_password": "p"}  # fmt: skip
    with pytest.raises(ValidationError, match="signed"):
        ClinicalSettings(**production, xml130_facilities={"68-BVDK": {"ma_cskcb": "68001", "signature_required": False}})
    settings = ClinicalSettings(**production, xml130_facilities={"68-BVDK": {"ma_cskcb": "68001"}})
    assert settings.xml130_facility("68-BVDK").signature_required and settings.xml130_facility("79-X").signature_required
    assert ClinicalSettings().xml130_facility("68-BVDK").signature_required is False


def test_records_without_the_new_detail_keep_their_stored_content() -> None:
    """A visit posted before medications/services/results existed dumps exactly as it did: same hash, no new version."""
    visit = OutpatientVisitIn(kind="outpatient_visit", external_id="V-1", national_id="068052000111", occurred_on=TODAY)
    assert set(domain.body_of(visit)) == {
        "external_id", "occurred_on", "diagnoses", "notes", "kind", "department", "reason", "measurements", "prescriptions"
    }  # fmt: skip
    detailed = visit.model_copy(update={"medications": [MedicationLine(code="40.18")]})
    assert domain.body_of(detailed)["medications"][0]["code"] == "40.18" and "services" not in domain.body_of(detailed)
