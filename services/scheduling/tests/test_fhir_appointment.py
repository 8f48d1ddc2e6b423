"""FHIR Appointment (an exam invitation): a hospital's HIS reads the invitations of its exam days and marks them
arrived, fulfilled or noshow through the invitations' own lifecycle; boards read in scope; versions and
If-Match; refusals as OperationOutcome naming Appointment.status (SQLite and PostgreSQL)."""

from typing import Any

import httpx
from fastapi import FastAPI
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle

from contracts import roles
from contracts.enums import ManagementTier
from contracts.scope import AUDIT_SUBJECTS_HEADER, Principal
from servicekit.testing.principals import principal_for

BASE = "/fhir/R4/Appointment"
FHIR = {"content-type": "application/fhir+json"}
PATCH = {"content-type": "application/json-patch+json"}


def his(facility: str) -> Principal:
    return principal_for(roles.his_client, "VN.68", subject=f"client:{facility}").model_copy(update={"facility": facility})


BVDK, BAO_LOC = his("68-BVDK"), his("68-TTYT-BL")


def ids(bundle: dict[str, Any]) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


async def _plan(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any) -> list[dict[str, Any]]:
    await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name="Cán bộ Đà Lạt")
    await k.register(feed, tier=ManagementTier.PROVINCIAL_2, managing_unit="VN.68.673", full_name="Cán bộ Bảo Lộc")
    await k.register(feed, tier=ManagementTier.PROVINCIAL_3, full_name="Cán bộ Ba")
    _plan, invitations = await k.generated(client, sign_as)
    return [i for i in invitations if i["round_number"] == 1]


async def test_a_hospital_reads_the_invitations_of_its_exam_days(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, units: None
) -> None:
    invitations = await _plan(k, client, sign_as, feed)
    at_bvdk = sorted(i["id"] for i in invitations if i["facility"] == "68-BVDK")
    at_bao_loc = [i for i in invitations if i["facility"] == "68-TTYT-BL"]
    assert len(at_bvdk) == 2 and len(at_bao_loc) == 1

    mine = await client.get(BASE, params={"actor": "Organization/68-BVDK"}, headers=sign_as(BVDK))
    assert mine.status_code == 200 and mine.headers["content-type"].startswith("application/fhir+json"), mine.text
    bundle = Bundle.model_validate(mine.json())
    assert sorted(ids(mine.json())) == at_bvdk and bundle.total == 2
    assert sorted(mine.headers[AUDIT_SUBJECTS_HEADER].split(",")) == sorted(
        i["cadre_id"] for i in invitations if i["facility"] == "68-BVDK"
    )
    # another facility's invitation does not exist for this hospital, whatever it asks
    elsewhere = await client.get(BASE, params={"location": "68-TTYT-BL"}, headers=sign_as(BVDK))
    assert elsewhere.json()["total"] == 0
    hidden = await client.get(f"{BASE}/{at_bao_loc[0]['id']}", headers=sign_as(BVDK))
    assert hidden.status_code == 404 and hidden.json()["issue"][0]["code"] == "not-found"

    day = min(i["appointment_date"] for i in invitations if i["facility"] == "68-BVDK")
    on_day = await client.get(BASE, params={"date": day, "actor": "Organization/68-BVDK"}, headers=sign_as(BVDK))
    expected = sorted(i["id"] for i in invitations if i["facility"] == "68-BVDK" and i["appointment_date"] == day)
    assert sorted(ids(on_day.json())) == expected
    after = await client.get(BASE, params={"date": f"gt{day}"}, headers=sign_as(BVDK))
    assert set(ids(after.json())) == set(at_bvdk) - set(expected)

    read = await client.get(f"{BASE}/{at_bvdk[0]}", headers=sign_as(BVDK))
    appointment = Appointment.model_validate(read.json())
    assert appointment.status == "pending" and read.headers["etag"] == 'W/"1"'
    assert {p.actor.reference for p in appointment.participant} >= {"Organization/68-BVDK"}

    # the board sees all three; a district board none of these provincial cadres
    board = await client.get(BASE, headers=sign_as(k.LAMDONG))
    assert board.json()["total"] == 3
    assert (await client.get(BASE, headers=sign_as(k.DALAT))).json()["total"] == 0


async def test_a_hospital_marks_arrived_fulfilled_and_noshow(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, units: None, app: FastAPI
) -> None:
    invitations = await _plan(k, client, sign_as, feed)
    first, second = sorted((i for i in invitations if i["facility"] == "68-BVDK"), key=lambda i: i["id"])
    current = (await client.get(f"{BASE}/{first['id']}", headers=sign_as(BVDK))).json()

    arrived = await client.put(
        f"{BASE}/{first['id']}", json={**current, "status": "arrived"}, headers={**FHIR, "if-match": 'W/"1"', **sign_as(BVDK)}
    )
    assert arrived.status_code == 200, arrived.text
    assert arrived.json()["status"] == "booked" and arrived.json()["meta"]["versionId"] == "2"
    stale = await client.put(
        f"{BASE}/{first['id']}", json={**current, "status": "fulfilled"}, headers={**FHIR, "if-match": 'W/"1"', **sign_as(BVDK)}
    )
    assert stale.status_code == 412 and stale.json()["resourceType"] == "OperationOutcome"
    ops = [{"op": "replace", "path": "/status", "value": "fulfilled"}]
    fulfilled = await client.patch(f"{BASE}/{first['id']}", json=ops, headers={**PATCH, **sign_as(BVDK)})
    assert fulfilled.status_code == 200 and fulfilled.json()["status"] == "fulfilled", fulfilled.text
    repeated = await client.patch(f"{BASE}/{first['id']}", json=ops, headers={**PATCH, **sign_as(BVDK)})
    assert repeated.status_code == 200 and repeated.json()["meta"]["versionId"] == "3"  # nothing changed twice

    noshow = await client.patch(
        f"{BASE}/{second['id']}",
        json=[{"op": "replace", "path": "/status", "value": "noshow"}],
        headers={**PATCH, **sign_as(BVDK)},
    )
    assert noshow.json()["status"] == "noshow"
    statuses = {i["id"]: i["status"] for i in await k.invitations_of(client, sign_as)}
    assert (statuses[first["id"]], statuses[second["id"]]) == ("attended", "no_show")
    changes = await k.outbox_events(app, "vn.cadrecare.scheduling.invitation.status_changed")
    assert [(e.previous_status, e.status) for _, e in changes] == [
        ("invited", "confirmed"),
        ("confirmed", "attended"),
        ("invited", "no_show"),
    ]


async def test_refused_status_changes_name_the_element_and_change_nothing(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, units: None, app: FastAPI
) -> None:
    invitations = await _plan(k, client, sign_as, feed)
    mine = next(i for i in invitations if i["facility"] == "68-BVDK")
    other = next(i for i in invitations if i["facility"] == "68-TTYT-BL")
    before = await k.outbox_count(app)
    current = (await client.get(f"{BASE}/{mine['id']}", headers=sign_as(BVDK))).json()

    cancelled = await client.put(
        f"{BASE}/{mine['id']}", json={**current, "status": "cancelled"}, headers={**FHIR, **sign_as(BVDK)}
    )
    assert cancelled.status_code == 422 and cancelled.json()["issue"][0]["expression"] == ["Appointment.status"]
    invalid = await client.put(f"{BASE}/{mine['id']}", json={**current, "status": "sleeping"}, headers={**FHIR, **sign_as(BVDK)})
    assert invalid.status_code == 422 and "Appointment.status" in invalid.json()["issue"][0]["expression"][0]
    other_id = await client.put(f"{BASE}/{mine['id']}", json={**current, "id": other["id"]}, headers={**FHIR, **sign_as(BVDK)})
    assert other_id.status_code == 400
    not_mine = await client.patch(
        f"{BASE}/{other['id']}",
        json=[{"op": "replace", "path": "/status", "value": "fulfilled"}],
        headers={**PATCH, **sign_as(BVDK)},
    )
    assert not_mine.status_code == 404
    other_field = await client.patch(
        f"{BASE}/{mine['id']}", json=[{"op": "replace", "path": "/start", "value": "x"}], headers={**PATCH, **sign_as(BVDK)}
    )
    assert other_field.status_code == 422
    assert await k.outbox_count(app) == before
    # a final state stays final: the board cancels, the hospital cannot then mark it fulfilled
    ops = [{"op": "replace", "path": "/status", "value": "cancelled"}]
    assert (await client.patch(f"{BASE}/{mine['id']}", json=ops, headers={**PATCH, **sign_as(k.LAMDONG)})).status_code == 200
    late = await client.patch(
        f"{BASE}/{mine['id']}",
        json=[{"op": "replace", "path": "/status", "value": "fulfilled"}],
        headers={**PATCH, **sign_as(BVDK)},
    )
    assert late.status_code == 422 and late.json()["issue"][0]["code"] == "business-rule"
