"""Helpers shared by clinical's API tests: the records a HIS posts, and posting them as the gateway would."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx

from contracts.enums import CadreStatus, ManagementTier, Sex
from contracts.events.registry import CadreSnapshot
from contracts.scope import Principal

Sign = Callable[[Principal], dict[str, str]]
Events = Callable[[], Awaitable[list[tuple[str, dict[str, Any]]]]]
Count = Callable[[Any], Awaitable[int]]
CLASSIFICATION = {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "B1"}


def exam(national_id: str, external_id: str = "KSK-2026-0001", **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "periodic_exam",
        "external_id": external_id,
        "national_id": national_id,
        "occurred_on": "2026-03-01",
        "plan_id": "7d1c2f5e-0000-4000-8000-000000000001",
        "measurements": [
            {"code": "weight", "value": 62.5, "unit": "kg"},
            {"code": "bp_systolic", "value": 145, "unit": "mm[Hg]", "abnormal": True},
        ],
        "labs": [{"code": "glucose", "value": 7.8, "unit": "mmol/L", "reference_range": "3.9-6.4", "abnormal": True}],
        "diagnoses": [{"code": "I10", "primary": True}, {"code": "E119"}],
        "classification": CLASSIFICATION,
        "follow_ups": [{"finding": "lung nodule 6 mm", "action": "CT in 3 months"}],
        **overrides,
    }


def admission(national_id: str, external_id: str = "NT-1", **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "admission",
        "external_id": external_id,
        "national_id": national_id,
        "occurred_on": "2026-02-10",
        "ward": "Phòng nội A",
        "diagnoses": [{"code": "J44.1"}],
        **overrides,
    }


async def post(
    client: httpx.AsyncClient, sign_as: Sign, principal: Principal, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post("/his/records", json=body, headers={**sign_as(principal), **headers})


def snapshot(cadre_id: uuid.UUID, **overrides: Any) -> CadreSnapshot:
    values: dict[str, Any] = {
        "id": cadre_id,
        "full_name": "Nguyễn Văn Đức",
        "date_of_birth": date(1952, 4, 5),
        "sex": Sex.MALE,
        "national_id": f"068052{uuid.uuid4().int % 10**6:06d}",
        "tier": ManagementTier.DISTRICT,
        "status": CadreStatus.RETIRED,
        "status_since": date(2012, 5, 1),
        "managing_unit": "VN.68.672",
        "card_number": None,
        **overrides,
    }
    return CadreSnapshot(**values)
