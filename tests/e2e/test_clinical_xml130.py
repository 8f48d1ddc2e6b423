"""QĐ 130 XML through the gateway, across real processes: a cadre registered with a BHYT card reaches clinical
by event; the hospital's HIS uploads a ZIP of envelopes (a cadre named only by the card, a patient who is not a
cadre, a malformed envelope); the cadre's visit is stored once, the rest is counted or refused; a repeat is
`existed`; a board reads the visit in the cadre's timeline, and its re-exam appointment (XML14) in scheduling's
follow-ups."""

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta

import httpx
import pytest

from devstack import demo
from devstack.stack import Stack
from devstack.xml130_samples import Patient, encounter, envelope
from servicekit import clock
from tests.e2e.conftest import login, stack_config
from tests.e2e.helpers import eventually, new_cadre

pytestmark = pytest.mark.e2e
REGISTRATION = {"68-BVDK": {"ma_cskcb": "68001", "signature_required": False}}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The platform with the demo hospital registered for QĐ 130 under its BHXH code 68001."""
    config = stack_config(tmp_path_factory.mktemp("stack"))
    demo.ensure_demo_principals(config.data_dir / "gateway" / "principals.json")
    platform = Stack(config, extra_env={"CLINICAL_XML130_FACILITIES": json.dumps(REGISTRATION)})
    platform.start(timeout=90)
    try:
        yield platform
    finally:
        platform.stop()


def zipped(documents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, document in documents.items():
            archive.writestr(name, document)
    return buffer.getvalue()


def test_a_his_uploads_qd130_xml_through_the_gateway(stack: Stack, admin: httpx.Client, his: httpx.Client) -> None:
    body = new_cadre(unit="VN.68.672") | {"bhyt_number": "HT3680012345678", "bhyt_valid_to": "2026-12-31"}
    cadre = admin.post("/api/v1/registry/cadres", json=body)
    assert cadre.status_code == 201, cadre.text
    assert cadre.json()["bhyt_number"] == "HT3680012345678"
    visit = encounter("E2E-XML-1", Patient(None, bhyt="HT3680012345678"), lines=5)
    re_exam_on = clock.today() + timedelta(days=30)  # an appointment ahead, by Vietnam's date
    visit["XML14"] = [{"MA_LK": "E2E-XML-1", "SO_GIAYHEN_KL": "HK-E2E", "NGAY_HEN_KL": f"{re_exam_on:%Y%m%d}0800"}]
    stranger = encounter("E2E-XML-2", Patient("001099000042", bhyt="DN4010000000042"), lines=5)
    upload = zipped({"a.xml": envelope([visit, stranger]), "b.xml": b"<GIAMDINHHS><oops>"})
    headers = {"content-type": "application/zip"}

    def posted() -> dict[str, object] | None:
        answer = his.post("/api/v1/clinical/his/xml130", content=upload, headers=headers)
        assert answer.status_code == 200, answer.text
        result: dict[str, object] = answer.json()
        return result if result["counts"] == {"created": 1, "not_a_cadre": 1, "refused": 1} else None

    first = eventually(posted, timeout=30)  # not_a_cadre until clinical has heard of the cadre: nothing kept meanwhile
    items = first["items"]
    assert isinstance(items, list) and items[0]["records"][0]["kind"] == "outpatient_visit"
    assert items[2]["file"] == "b.xml" and items[2]["errors"][0]["type"] == "xml_malformed"
    again = his.post("/api/v1/clinical/his/xml130", content=upload, headers=headers).json()
    assert again["counts"] == {"existed": 1, "not_a_cadre": 1, "refused": 1}

    stored = his.get("/api/v1/clinical/his/records/lookup", params={"external_id": "E2E-XML-1"}).json()
    assert [m["code"] for m in stored["data"]["medications"]][:2] == ["40.18", "40.677"]
    assert his.get("/api/v1/clinical/his/records/lookup", params={"external_id": "E2E-XML-2"}).status_code == 404
    with closing(login(stack, "dalat")) as dalat:
        timeline = dalat.get(f"/api/v1/clinical/cadres/{cadre.json()['id']}/timeline")
        assert timeline.status_code == 200, timeline.text
        assert "E2E-XML-1" in timeline.text
        cadre_follow_ups = {"cadre_id": cadre.json()["id"]}

        def follow_ups() -> list[dict[str, object]] | None:
            answer = dalat.get("/api/v1/scheduling/follow-ups", params=cadre_follow_ups)
            assert answer.status_code == 200, answer.text
            found: list[dict[str, object]] = answer.json()["items"]
            return found or None

        listed = eventually(follow_ups, timeout=30)  # scheduling hears of the record by event
        assert [(f["due_on"], f["status"], f["note"], f["record_external_id"]) for f in listed] == [
            (re_exam_on.isoformat(), "open", "Tái khám (giấy hẹn HK-E2E)", "E2E-XML-1")
        ]
    unsupported = his.post("/api/v1/clinical/his/xml130", json={"not": "xml"})
    assert unsupported.status_code == 422 and unsupported.json()["errors"][0]["type"] == "content_type"
