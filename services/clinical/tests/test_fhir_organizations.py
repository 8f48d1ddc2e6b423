"""FHIR Organization, the facilities registry (clinical.fhir.organizations): create (also conditional), read,
search, update with versions, who may register which facility, invalid content, and the facilities known only
from their records. On SQLite and PostgreSQL; every answer is checked against the fhir.resources R4B models."""

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx
from fhir_testkit import FACILITY, by_cccd, encounter, fhir

from clinical.tables import Facility
from contracts.fhir import EXT_MANAGING_UNIT, SID_FACILITY_CODE
from servicekit.testing.principals import principal_for

BASE = "/fhir/R4"
ADMIN = principal_for("administrator")
OWN = f"identifier={SID_FACILITY_CODE}|{FACILITY}"


def organization(code: str = FACILITY, name: str = "Bệnh viện Đa khoa Lâm Đồng", **overrides: Any) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "identifier": [{"system": SID_FACILITY_CODE, "value": code}],
        "name": name,
        "address": [{"text": "4 Phạm Ngọc Thạch, Đà Lạt"}],
        "extension": [{"url": EXT_MANAGING_UNIT, "valueString": "VN.68"}],
        **overrides,
    }


async def test_a_his_registers_its_facility_once_and_reads_and_finds_it(
    client: httpx.AsyncClient, sign_as: Any, principals: SimpleNamespace, count_rows: Any
) -> None:
    his, doctor = sign_as(principals.his), sign_as(principals.doctor)
    created = await client.post(f"{BASE}/Organization", json=organization(), headers={**his, "If-None-Exist": OWN})
    body = fhir(created, 201)
    assert body["id"] == FACILITY and body["name"] == "Bệnh viện Đa khoa Lâm Đồng" and body["meta"]["versionId"] == "1"
    assert created.headers["etag"] == 'W/"1"'
    assert created.headers["location"].endswith(f"/Organization/{FACILITY}/_history/1")
    assert body["address"] == [{"text": "4 Phạm Ngọc Thạch, Đà Lạt"}]
    assert body["extension"] == [{"url": EXT_MANAGING_UNIT, "valueString": "VN.68"}]

    again = await client.post(f"{BASE}/Organization", json=organization(name="other"), headers={**his, "If-None-Exist": OWN})
    assert fhir(again, 200)["name"] == "Bệnh viện Đa khoa Lâm Đồng"  # the one registered, unchanged
    plain = await client.post(f"{BASE}/Organization", json=organization(), headers=his)
    assert fhir(plain, 409)["issue"][0]["expression"] == ["Organization.identifier"]
    assert await count_rows(Facility) == 1

    read = fhir(await client.get(f"{BASE}/Organization/{FACILITY}", headers=doctor), 200)
    assert read["name"] == "Bệnh viện Đa khoa Lâm Đồng"
    by_identifier = fhir(await client.get(f"{BASE}/Organization", params={"identifier": OWN[11:]}, headers=doctor))
    assert [e["resource"]["id"] for e in by_identifier["entry"]] == [FACILITY]
    for name, total in (("lam dong", 1), ("BỆNH VIỆN", 1), ("Chợ Rẫy", 0)):  # case and diacritics do not matter
        found = fhir(await client.get(f"{BASE}/Organization", params={"name": name}, headers=his))
        assert found["total"] == total, name
    assert fhir(await client.get(f"{BASE}/Organization", params={"_id": "79-BVTN"}, headers=doctor))["total"] == 0


async def test_conditional_creates_at_once_register_one(
    client: httpx.AsyncClient, sign_as: Any, principals: SimpleNamespace, count_rows: Any
) -> None:
    his = {**sign_as(principals.his), "If-None-Exist": OWN}
    answers = await asyncio.gather(*(client.post(f"{BASE}/Organization", json=organization(), headers=his) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [a.text for a in answers]
    assert await count_rows(Facility) == 1


async def test_update_makes_a_version_and_if_match_guards_it(
    client: httpx.AsyncClient, sign_as: Any, principals: SimpleNamespace
) -> None:
    his = sign_as(principals.his)
    fhir(await client.post(f"{BASE}/Organization", json=organization(), headers=his), 201)
    changed = organization(id=FACILITY, name="Bệnh viện Đa khoa tỉnh Lâm Đồng", active=True)
    stale = await client.put(f"{BASE}/Organization/{FACILITY}", json=changed, headers={**his, "If-Match": 'W/"4"'})
    assert fhir(stale, 412)["issue"][0]["code"] == "conflict"
    updated = await client.put(f"{BASE}/Organization/{FACILITY}", json=changed, headers={**his, "If-Match": 'W/"1"'})
    assert fhir(updated, 200)["meta"]["versionId"] == "2" and updated.headers["etag"] == 'W/"2"'
    same = await client.put(f"{BASE}/Organization/{FACILITY}", json=changed, headers=his)
    assert fhir(same, 200)["meta"]["versionId"] == "2"  # the same content again is no new version
    read = fhir(await client.get(f"{BASE}/Organization/{FACILITY}", headers=his))
    assert read["name"] == "Bệnh viện Đa khoa tỉnh Lâm Đồng"
    renamed = organization("68-OTHER", id=FACILITY)
    refused = fhir(await client.put(f"{BASE}/Organization/{FACILITY}", json=renamed, headers=his), 422)
    assert refused["issue"][0]["expression"] == ["Organization.identifier"]


async def test_who_registers_which_facility(client: httpx.AsyncClient, sign_as: Any, principals: SimpleNamespace) -> None:
    his, doctor, admin = sign_as(principals.his), sign_as(principals.doctor), sign_as(ADMIN)
    others = await client.post(f"{BASE}/Organization", json=organization("79-BVTN", "Bệnh viện Thống Nhất"), headers=his)
    assert fhir(others, 403)["issue"][0]["code"] == "forbidden"
    assert (
        await client.put(f"{BASE}/Organization/79-BVTN", json=organization("79-BVTN", id="79-BVTN"), headers=his)
    ).status_code == 403
    assert fhir(await client.post(f"{BASE}/Organization", json=organization(), headers=doctor), 403)
    board = await client.post(f"{BASE}/Organization", json=organization(), headers=sign_as(principals.dalat))
    assert board.status_code == 403
    registered = await client.post(f"{BASE}/Organization", json=organization("79-BVTN", "Bệnh viện Thống Nhất"), headers=admin)
    assert fhir(registered, 201)["id"] == "79-BVTN"
    by_put = await client.put(
        f"{BASE}/Organization/01-BVBM", json=organization("01-BVBM", "Bạch Mai", id="01-BVBM"), headers=admin
    )
    assert fhir(by_put, 201)["meta"]["versionId"] == "1"  # a PUT of a code not registered registers it


async def test_invalid_organizations_are_refused_naming_the_element(
    client: httpx.AsyncClient, sign_as: Any, principals: SimpleNamespace, count_rows: Any
) -> None:
    his = sign_as(principals.his)
    cases = [
        (organization(active="maybe"), "Organization.active"),
        (organization(name=""), "Organization.name"),
        (organization(identifier=[{"system": "urn:other", "value": FACILITY}]), "Organization.identifier"),
        (organization(identifier=[{"system": SID_FACILITY_CODE, "value": "68 BVDK!"}]), "Organization.identifier[0].value"),
        (
            organization(extension=[{"url": EXT_MANAGING_UNIT, "valueString": "Lâm Đồng"}]),
            "Organization.extension[0].valueString",
        ),
    ]
    for resource, path in cases:
        refused = fhir(await client.post(f"{BASE}/Organization", json=resource, headers=his), 422)
        assert refused["resourceType"] == "OperationOutcome" and path in refused["issue"][0]["expression"], refused
    assert await count_rows(Facility) == 0


async def test_a_facility_known_only_from_its_records_is_still_served(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    nid = "068052000301"
    await seed_cadre(national_id=nid)
    his, doctor = sign_as(principals.his), sign_as(principals.doctor)
    fhir(await client.post(f"{BASE}/Encounter", json=encounter(by_cccd(nid)), headers=his), 201)
    known = fhir(await client.get(f"{BASE}/Organization/{FACILITY}", headers=doctor), 200)
    assert known["name"] == FACILITY and "meta" not in known
    assert fhir(await client.get(f"{BASE}/Organization", params={"name": "68-bvdk"}, headers=doctor))["total"] == 1
    assert fhir(await client.get(f"{BASE}/Organization/99-NONE", headers=doctor), 404)["issue"][0]["code"] == "not-found"
    # conditional create registers it (a facility known from records is not "already there")
    registered = await client.post(f"{BASE}/Organization", json=organization(), headers={**his, "If-None-Exist": OWN})
    assert fhir(registered, 201)["name"] == "Bệnh viện Đa khoa Lâm Đồng"
    listed = fhir(await client.get(f"{BASE}/Organization", headers=doctor))
    assert [e["resource"]["name"] for e in listed["entry"]] == ["Bệnh viện Đa khoa Lâm Đồng"]
