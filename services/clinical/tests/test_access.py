"""Every route of clinical asks for its own permission (clinical.access): without it, 403 permission_denied
before anything is read or written. On SQLite and PostgreSQL."""

import uuid
from types import SimpleNamespace

import httpx
import pytest
from clinical_testkit import Sign, exam

from contracts.scope import Principal

SOME_ID = uuid.UUID("85e8da23-14e4-4029-9a27-af7076f3acae")  # fixed: test ids must be the same in every pytest-xdist worker
ROUTES = [
    ("POST", "/his/records", exam("068052000001")),
    ("POST", "/his/records/bulk", {"items": [exam("068052000001")]}),
    ("POST", "/his/records/withdraw", {"external_id": "KSK-2026-0001", "reason": "wrong patient"}),
    ("GET", "/his/records/lookup?external_id=KSK-2026-0001", None),
    ("GET", "/his/records/versions?external_id=KSK-2026-0001", None),
    ("GET", f"/records/{SOME_ID}", None),
    ("GET", f"/records/{SOME_ID}/versions", None),
    ("GET", f"/cadres/{SOME_ID}/timeline", None),
    ("GET", f"/cadres/{SOME_ID}/conditions", None),
    ("GET", "/patients/summary", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_a_caller_without_the_routes_permission_is_refused(
    client: httpx.AsyncClient, sign_as: Sign, principals: SimpleNamespace, method: str, path: str, body: object
) -> None:
    nobody: Principal = principals.doctor.model_copy(update={"permissions": frozenset()})
    answer = await client.request(method, path, json=body, headers=sign_as(nobody))
    assert answer.status_code == 403 and answer.json()["code"] == "permission_denied", answer.text
