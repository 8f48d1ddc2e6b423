"""A record's follow-ups on the bus (what scheduling turns into a board's follow-ups): each with its place, due
date and the HIS's note of what is to be done, never the finding (diagnosis text); for a central-tier cadre not
the note either. A correction publishes the new list. On SQLite and PostgreSQL."""

import json
from types import SimpleNamespace
from typing import Any

import httpx
from clinical_testkit import Events, Sign, exam, post

from contracts.enums import ManagementTier

FINDINGS = ("Ung thư phổi nghi di căn", "Tăng huyết áp độ 2")
NOTES = ("CT ngực sau 3 tháng", "Tái khám (giấy hẹn HK-12): đo huyết áp")


def follow_ups(*dues: str | None) -> list[dict[str, Any]]:
    return [{"finding": FINDINGS[i], "action": NOTES[i], **({"due_by": due} if due else {})} for i, due in enumerate(dues)]


async def test_follow_ups_carry_due_dates_and_notes_but_no_findings(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace, outbox_events: Events
) -> None:
    await seed_cadre(national_id="068052000320")
    await seed_cadre(national_id="068052000321", tier=ManagementTier.CENTRAL, managing_unit="VN.68")
    for nid, external_id in (("068052000320", "DP-1"), ("068052000321", "TW-1")):
        body = exam(nid, external_id=external_id, follow_ups=follow_ups("2026-06-01", None))
        assert (await post(client, sign_as, principals.his, body)).status_code == 201
    corrected = exam("068052000320", external_id="DP-1", follow_ups=follow_ups("2026-07-15"))
    assert (await post(client, sign_as, principals.his, corrected)).json()["outcome"] == "amended"

    events = [(kind.rsplit(".", 1)[-1], payload["record"]) for kind, payload in await outbox_events()]
    by_record = [(kind, record["external_id"], record["follow_ups"]) for kind, record in events]
    assert by_record == [
        (
            "recorded",
            "DP-1",
            [
                {"index": 0, "due_by": "2026-06-01", "note": NOTES[0], "note_withheld": False},
                {"index": 1, "due_by": None, "note": NOTES[1], "note_withheld": False},
            ],
        ),
        (
            "recorded",
            "TW-1",
            [
                {"index": 0, "due_by": "2026-06-01", "note": None, "note_withheld": True},
                {"index": 1, "due_by": None, "note": None, "note_withheld": True},
            ],
        ),
        ("amended", "DP-1", [{"index": 0, "due_by": "2026-07-15", "note": NOTES[0], "note_withheld": False}]),
    ]
    published = json.dumps([record for _, record in events], ensure_ascii=False)
    assert not any(finding in published for finding in FINDINGS)
    central = json.dumps([record for _, record in events if record["external_id"] == "TW-1"], ensure_ascii=False)
    assert not any(note in central for note in NOTES)
