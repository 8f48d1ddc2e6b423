"""QĐ 130 batches: 1,000 encounters of which 900 are not cadres; bad input refused encounter by encounter while
the others are stored; the same batch from 8 connections at once stored once (SQLite and PostgreSQL)."""

import asyncio
import base64
import io
import zipfile
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from xml130_fixtures import xml130_app

from clinical.tables import ClinicalRecord, ClinicalRecordVersion, Xml130File
from devstack.xml130_samples import Patient, encounter, envelope, throwaway_ca
from servicekit import clock

BOMB = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><TONG_HOP><MA_LK>&lol3;</MA_LK></TONG_HOP>"""


@pytest.fixture
async def app(database_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path) -> AsyncIterator[FastAPI]:
    async for application in xml130_app(database_url, internal_keys[1], tmp_path, throwaway_ca()):
        yield application


def zipped(documents: list[bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, document in enumerate(documents):
            archive.writestr(f"hoso-{index:04d}.xml", document)
    return buffer.getvalue()


async def test_a_thousand_encounters_of_which_900_are_not_cadres(
    client: httpx.AsyncClient, sign_as: Any, app: FastAPI, seed_cadre: Any, principals: SimpleNamespace, count_rows: Any
) -> None:
    cadres = [f"0680520{i:05d}" for i in range(100)]
    for nid in cadres:
        await seed_cadre(national_id=nid)
    patients = [Patient(cadres[i // 10]) if i % 10 == 0 else Patient(f"0010990{i:05d}") for i in range(1000)]
    documents = [
        envelope([encounter(f"LK-K-{e * 100 + i:04d}", patients[e * 100 + i], lines=2) for i in range(100)]) for e in range(10)
    ]
    headers = {**sign_as(principals.his), "content-type": "application/zip"}
    answer = await client.post("/his/xml130", content=zipped(documents), headers=headers, timeout=120)
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"] == {"created": 100, "not_a_cadre": 900}
    assert await count_rows(ClinicalRecord) == 100
    async with app.state.runtime.db.transaction() as session:
        kept = await session.scalar(select(func.count(func.distinct(Xml130File.ma_lk))))  # type: ignore[arg-type]
    assert kept == 100  # nothing of a non-cadre's encounter is kept


async def test_bad_input_is_refused_encounter_by_encounter(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Any
) -> None:
    await seed_cadre(national_id="068052001001")
    await seed_cadre(national_id="079052001002", managing_unit="VN.79.760")  # a cadre of another province
    good = "068052001001"
    future = (clock.today() + timedelta(days=2)).strftime("%Y%m%d0800")
    encounters = [
        encounter("BAD-0-GOOD", Patient(good), lines=2),
        encounter("BAD-1-MALFORMED", Patient(good), lines=2),
        encounter("BAD-2-BOMB", Patient(good), lines=2),
        encounter("BAD-3-NOTXML", Patient(good), lines=2),
        encounter("BAD-4-FUTURE", Patient(good), lines=2, NGAY_VAO=future, NGAY_RA=None),
        encounter("BAD-5-PROVINCE", Patient("079052001002"), lines=2),
        encounter("BAD-6-ICD", Patient(good), lines=2, MA_BENH_KT="I10;U99.9;ZZZ"),
        encounter("BAD-7-NOLK", Patient(good), lines=2, MA_LOAI_KCB=None),
    ]
    files = {(1, "XML2"): b"<CHITIEU_CHITIET_THUOC><DSACH", (2, "XML1"): BOMB, (3, "XML3"): b"PK\x03\x04 not xml"}
    first = envelope(encounters, files=files)
    second = envelope([encounter("BAD-8-OTHER-FACILITY", Patient(good), lines=2, ma_cskcb="68099")], ma_cskcb="68099")
    documents = [("a.xml", first), ("b.xml", second), ("c.xml", b"<GIAMDINHHS><unclosed>"), ("d.xml", BOMB)]
    form = [("file", (name, data, "application/xml")) for name, data in documents]
    answer = await client.post("/his/xml130", files=form, headers=sign_as(principals.his))
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    by_key = {(i["envelope"], i["encounter"]): i for i in items}
    assert by_key[(0, 0)]["outcome"] == "created"
    expected = {
        (0, 1): ("XML2", "xml_malformed"),
        (0, 2): ("XML1", "xml_dtd_forbidden"),
        (0, 3): ("XML3", "base64_not_xml"),
        (0, 4): ("XML1", "date_in_future"),
        (0, 5): ("XML1", "outside_grants"),
        (0, 6): ("XML1", "unknown_icd10"),
        (0, 7): ("XML1", "element_missing"),
        (1, 0): ("THONGTINDONVI/MACSKCB", "facility_mismatch"),
        (2, None): ("envelope", "xml_malformed"),
        (3, None): ("envelope", "xml_dtd_forbidden"),
    }
    for key, (where, type_) in expected.items():
        item = by_key[key]
        assert item["outcome"] == "refused" and item["errors"], item
        assert (item["errors"][0]["loc"][0], item["errors"][0]["type"]) == (where, type_), item
    assert by_key[(0, 6)]["errors"][0]["loc"] == ["XML1", "MA_BENH_KT"] and len(by_key[(0, 6)]["errors"]) == 2
    assert by_key[(0, 5)]["ma_lk"] == "BAD-5-PROVINCE" and by_key[(2, None)]["file"] == "c.xml"
    assert await count_rows(ClinicalRecord) == 1 and await count_rows(Xml130File) == 4  # only BAD-0-GOOD's four files


async def test_the_bhxh_form_field_and_an_unsupported_body(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    await seed_cadre(national_id="068052001003")
    document = envelope([encounter("FORM-1", Patient("068052001003"), lines=1)])
    form = {"username": "his", "loaiHoSo": "130", "maCSKCB": "68001", "fileHSBase64": base64.b64encode(document).decode()}
    answer = await client.post("/his/xml130", data=form, headers=sign_as(principals.his))
    assert answer.status_code == 200 and answer.json()["counts"] == {"created": 1}, answer.text
    refused = await client.post("/his/xml130", json={"x": 1}, headers=sign_as(principals.his))
    assert refused.status_code == 422 and refused.json()["errors"][0]["type"] == "content_type"
    zip_headers = {**sign_as(principals.his), "content-type": "application/zip"}
    broken_zip = await client.post("/his/xml130", content=b"PK\x03\x04junk", headers=zip_headers)
    assert broken_zip.status_code == 422 and broken_zip.json()["errors"][0]["type"] == "zip_invalid"


async def test_the_same_batch_from_8_connections_is_stored_once(
    app: FastAPI, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Any
) -> None:
    cadres = [f"0680520{i:05d}" for i in range(10)]
    for nid in cadres:
        await seed_cadre(national_id=nid)
    tables = [encounter(f"CONC-{i:03d}", Patient(cadres[i % 10]), lines=2) for i in range(20)]
    tables[0]["XML13"] = [{"MA_LK": "CONC-000", "MA_NOI_DEN": "68002", "NGAY_RA": "202603041030"}]
    body = envelope(tables)
    headers = {**sign_as(principals.his), "content-type": "application/xml"}

    async def post() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clinical") as http:
            answer = await http.post("/his/xml130", content=body, headers=headers, timeout=120)
            assert answer.status_code == 200, answer.text
            result: dict[str, Any] = answer.json()
            return result

    answers = await asyncio.gather(*[post() for _ in range(8)])
    outcomes: Counter[str] = Counter(i["outcome"] for a in answers for i in a["items"])
    assert outcomes == {"created": 20, "existed": 140}
    assert await count_rows(ClinicalRecord) == 21 and await count_rows(ClinicalRecordVersion) == 21
    assert await count_rows(Xml130File) == 81
