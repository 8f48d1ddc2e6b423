"""The clinical app with QĐ 130 registrations, for the xml130 tests (their `app` fixture is this one's)."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from clinical.app import create_app
from clinical.settings import ClinicalSettings
from contracts.enums import Action, ManagementTier
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, PrincipalKind
from devstack.xml130_samples import Signer
from servicekit import migrations

HIS_SIGNING = Principal(
    subject="client:his-ttyt-dalat",
    kind=PrincipalKind.HIS,
    facility="68-TTYT-DL",
    grants=(Grant(unit_path="VN.68", tiers=frozenset(ManagementTier), actions=frozenset({Action.WRITE})),),
    permissions=frozenset({Permission.CLINICAL_WRITE, Permission.CLINICAL_READ_OWN}),
)


async def xml130_app(database_url: str, public_key: Path, tmp_path: Path, signer: Signer) -> AsyncIterator[FastAPI]:
    """68-BVDK sends MACSKCB 68001 unsigned; 68-TTYT-DL sends 68002 and must sign with its registered certificate."""
    certificate = tmp_path / "ttyt-dalat.pem"
    certificate.write_bytes(signer.certificate_pem())
    facilities: dict[str, Any] = {
        "68-BVDK": {"ma_cskcb": "68001", "signature_required": False},
        "79-BVTN": {"ma_cskcb": "79001"},
        "68-TTYT-DL": {"ma_cskcb": "68002", "certificate_file": certificate, "signature_required": True},
    }
    migrations.upgrade("clinical", database_url)
    settings = ClinicalSettings(
        database_url=database_url, data_dir=tmp_path, internal_public_key_file=public_key, xml130_facilities=facilities
    )
    application = create_app(settings, run_workers=False)
    yield application
    await application.state.runtime.db.dispose()


async def post_xml(client: httpx.AsyncClient, headers: dict[str, str], document: bytes) -> dict[str, Any]:
    answer = await client.post("/his/xml130", content=document, headers={**headers, "content-type": "application/xml"})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result
