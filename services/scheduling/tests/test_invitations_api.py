"""Invitations after generation: the lifecycle, re-invitations, letters, the undeliverable list."""

import re
from typing import Any

import httpx
from fastapi import FastAPI

from contracts.enums import ManagementTier


async def test_lifecycle_by_hand_and_refused_transitions(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, app: FastAPI
) -> None:
    for i in range(4):
        await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name=f"Cán bộ {i}")
    plan, (a, b, c, d) = await k.generated(client, sign_as)
    confirmed = await k.move(client, sign_as, a, status="confirmed")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    attended = await k.move(client, sign_as, a, status="attended", effective_date=k.day(3, 3))
    assert attended.json()["status"] == "attended" and attended.json()["status_since"] == k.day(3, 3)
    again = await k.move(client, sign_as, a, status="deferred", reason="ill")
    assert again.status_code == 422 and again.json()["code"] == "transition_not_allowed"
    assert "transition not allowed from 'attended' to 'deferred'" in again.json()["errors"][0]["msg"]
    no_reason = await k.move(client, sign_as, b, status="deferred")
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["loc"] == ["reason"]
    bad_reason = await k.move(client, sign_as, b, status="deferred", reason="bored")
    assert bad_reason.status_code == 422 and bad_reason.json()["errors"][0]["loc"] == ["body", "reason"]
    deferred = await k.move(client, sign_as, b, status="deferred", reason="travelling", note="công tác Hà Nội")
    assert deferred.json()["reason"] == "travelling: công tác Hà Nội"
    assert (await k.move(client, sign_as, c, status="no_show")).json()["status"] == "no_show"
    assert (await k.move(client, sign_as, d, status="cancelled")).json()["status"] == "cancelled"
    assert (await k.move(client, sign_as, d, status="confirmed")).status_code == 422

    # re-invitations: the deferred cadre at home, the no-show to round 2 at the provincial hospital
    open_one = await client.post(f"/invitations/{a['id']}/reinvite", json={}, headers=sign_as(k.LAMDONG))
    assert open_one.status_code == 422 and open_one.json()["code"] == "transition_not_allowed"
    home = await client.post(f"/invitations/{b['id']}/reinvite", json={"at_home": True}, headers=sign_as(k.LAMDONG))
    assert home.status_code == 201, home.text
    assert home.json()["at_home"] is True and home.json()["facility"] is None
    assert home.json()["attempt"] == 1 and home.json()["previous_invitation_id"] == b["id"]
    twice = await client.post(f"/invitations/{b['id']}/reinvite", json={"at_home": True}, headers=sign_as(k.LAMDONG))
    assert twice.status_code == 422
    round2 = next(r for r in plan["rounds"] if r["number"] == 2)
    later = await client.post(f"/invitations/{c['id']}/reinvite", json={"round_id": round2["id"]}, headers=sign_as(k.LAMDONG))
    assert later.status_code == 201, later.text
    assert later.json()["round_number"] == 2 and later.json()["facility"] == "68-BVDK"
    assert later.json()["appointment_date"] == k.day(9, 7)

    changes = await k.outbox_events(app, "vn.cadrecare.scheduling.invitation.status_changed")
    assert [(e.previous_status, e.status) for _, e in changes] == [  # type: ignore[attr-defined]
        ("invited", "confirmed"),
        ("confirmed", "attended"),
        ("invited", "deferred"),
        ("invited", "no_show"),
        ("invited", "cancelled"),
    ]
    reissued = await k.outbox_events(app, "vn.cadrecare.scheduling.invitation.issued")
    assert [e.facility for _, e in reissued[-2:]] == ["home", "68-BVDK"]  # type: ignore[attr-defined]
    # coverage counts the re-invitation, not the superseded original
    report = (await client.get("/coverage", params={"plan_id": plan["id"], "by": "round"}, headers=sign_as(k.LAMDONG))).json()
    rows = {r["round"]: r for r in report["rows"]}
    assert (rows[1]["invited"], rows[1]["attended"], rows[1]["deferred"], rows[1]["cancelled"]) == (2, 1, 0, 1)
    assert rows[2]["invited"] == 1


async def test_capacity_of_a_reinvitation_day(k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any) -> None:
    for i in range(3):
        await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name=f"Cán bộ {i}")
    _plan, invitations = await k.generated(client, sign_as)
    first = invitations[0]
    await k.move(client, sign_as, first, status="no_show")
    full_day = invitations[1]["appointment_date"]
    taken = sum(1 for i in invitations if i["appointment_date"] == full_day)
    assert taken == 2
    refused = await client.post(
        f"/invitations/{first['id']}/reinvite", json={"appointment_date": full_day}, headers=sign_as(k.LAMDONG)
    )
    assert refused.status_code == 422 and refused.json()["code"] == "capacity_exceeded"
    local = await client.post(
        f"/invitations/{first['id']}/reinvite",
        json={"facility": "68-TTYT-BL", "appointment_date": full_day},
        headers=sign_as(k.LAMDONG),
    )
    assert local.status_code == 201 and local.json()["facility"] == "68-TTYT-BL"


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


async def test_letters_in_vietnamese_and_the_undeliverable_list(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, units: None
) -> None:
    await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name="Nguyễn Thị Hương", sex="female")
    await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name="Đặng Văn Lâm")
    homeless = await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name="Bùi Văn Vắng", residence_address=None)
    plan, invitations = await k.generated(client, sign_as)

    one = next(i for i in invitations if i["full_name"] == "Nguyễn Thị Hương")
    letter = await client.get(f"/invitations/{one['id']}/letter.pdf", headers=sign_as(k.LAMDONG))
    assert letter.status_code == 200
    assert letter.headers["content-type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF") and pages(letter.content) == 1
    assert b"DejaVuSans" in letter.content  # the Unicode font is embedded: Vietnamese diacritics print
    assert letter.headers["x-audit-subjects"] == one["cadre_id"]

    batch = await client.get(f"/plans/{plan['id']}/letters.pdf", params={"round": 1}, headers=sign_as(k.LAMDONG))
    assert batch.status_code == 200 and pages(batch.content) == 2  # the one without an address is not printed
    assert str(homeless.id) not in batch.headers["x-audit-subjects"]

    undeliverable = await client.get(f"/plans/{plan['id']}/undeliverable", headers=sign_as(k.LAMDONG))
    assert [i["cadre_id"] for i in undeliverable.json()["items"]] == [str(homeless.id)]
    assert undeliverable.headers["x-audit-subjects"] == str(homeless.id)
    missing = next(i for i in invitations if i["cadre_id"] == str(homeless.id))
    refused = await client.get(f"/invitations/{missing['id']}/letter.pdf", headers=sign_as(k.LAMDONG))
    assert refused.status_code == 422 and refused.json()["code"] == "undeliverable"
    assert (await client.get(f"/invitations/{one['id']}/letter.pdf", headers=sign_as(k.DALAT))).status_code == 404
