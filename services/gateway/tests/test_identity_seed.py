"""A seed (plaintext secrets, roles by name) becomes the gateway's principals file: `python -m gateway.identity
seed`, as the launcher runs it for the demo; never in production, never over an existing file."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gateway_harness import PlatformFactory
from pydantic import ValidationError

from contracts import roles
from contracts.scope import Principal, PrincipalKind
from devstack.demo import DEMO_CLIENTS, DEMO_PRINCIPALS, DEMO_USERS
from gateway.identity import PrincipalsFile, SeedFile, SeedRefused, SeedRole, seed_principals

API = "/api/v1"
SEED: dict[str, Any] = {
    "users": [
        {"username": "boss", "password": "boss-pass", "display_name": "Admin", "role": {"role": "administrator"}},
        {"username": "lamdong", "password": "lamdong-pass", "role": {"role": "provincial_board", "unit": "VN.68"}},
        {"username": "doctor", "password": "doctor-pass", "role": {"role": "expert_council_doctor", "unit": "VN.68"}},
    ],
    "clients": [
        {
            "client_id": "his-a",
            "secret": "his-a-secret",
            "facility": "68-BVDK",
            "role": {"role": "his_client", "unit": "VN.68"},
        }
    ],
}
EXPECTED = {  # subject -> (kind, grants, permissions) as the gateway's role templates build them
    "user:boss": (PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS),
    "user:lamdong": (PrincipalKind.STAFF, roles.provincial_board("VN.68"), roles.STAFF_PERMISSIONS),
    "user:doctor": (PrincipalKind.DOCTOR, roles.expert_council_doctor("VN.68"), roles.DOCTOR_PERMISSIONS),
    "client:his-a": (PrincipalKind.HIS, roles.his_client("VN.68"), roles.HIS_PERMISSIONS),
}


def run_seed(source: Path, destination: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.identity", "seed", str(source), str(destination)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEED))
    return path


async def test_seeded_principals_sign_in_with_their_role(make_platform: PlatformFactory, seed_file: Path, tmp_path: Path) -> None:
    destination = tmp_path / "gateway" / "principals.json"
    assert run_seed(seed_file, destination).returncode == 0
    written = destination.read_text()
    assert "boss-pass" not in written and "his-a-secret" not in written  # hashed, never stored in plain
    assert destination.stat().st_mode & 0o077 == 0

    platform = await make_platform(PrincipalsFile.model_validate_json(written))
    forms = [{"grant_type": "password", "username": u["username"], "password": u["password"]} for u in SEED["users"]]
    forms += [{"grant_type": "client_credentials", "client_id": "his-a", "client_secret": "his-a-secret"}]
    for form in forms:
        token = await platform.http.post(f"{API}/auth/token", data=form)
        assert token.status_code == 200, form
        me = await platform.http.get(f"{API}/auth/me", headers={"authorization": f"Bearer {token.json()['access_token']}"})
        principal = Principal.model_validate(me.json())
        kind, grants, permissions = EXPECTED[principal.subject]
        assert (principal.kind, set(principal.grants), principal.permissions) == (kind, set(grants), permissions)
    wrong = await platform.http.post(f"{API}/auth/token", data={**forms[1], "password": "boss-pass"})
    assert wrong.status_code in {400, 401}


def test_an_existing_principals_file_is_kept(seed_file: Path, tmp_path: Path) -> None:
    destination = tmp_path / "principals.json"
    destination.write_text('{"users": [], "clients": []}')
    assert seed_principals(seed_file, destination, environment="development") is False
    assert destination.read_text() == '{"users": [], "clients": []}'
    answer = run_seed(seed_file, destination)
    assert answer.returncode == 0 and "kept" in answer.stdout
    assert destination.read_text() == '{"users": [], "clients": []}'


def test_refused_in_production(seed_file: Path, tmp_path: Path) -> None:
    destination = tmp_path / "principals.json"
    with pytest.raises(SeedRefused):
        seed_principals(seed_file, destination, environment="production")
    answer = run_seed(seed_file, destination, GATEWAY_ENVIRONMENT="production")
    assert answer.returncode == 2 and "refused" in answer.stderr
    assert not destination.exists()


@pytest.mark.parametrize(
    "role",
    [
        {"role": "emperor"},  # no such role
        {"role": "provincial_board"},  # a role of a unit without its unit
        {"role": "administrator", "unit": "VN.68"},  # a role of everywhere given a unit
        {"role": "district_board", "unit": "VN.68.672", "tiers": ["central"]},  # grants come from the template only
    ],
)
def test_a_role_the_gateway_has_no_template_for_is_refused(role: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SeedRole.model_validate(role)


def test_the_demo_seed_is_a_valid_seed() -> None:
    demo = SeedFile.model_validate_json(DEMO_PRINCIPALS.read_text(encoding="utf-8"))
    assert {user.username: user.password for user in demo.users} == DEMO_USERS
    assert {client.client_id: client.secret for client in demo.clients} == DEMO_CLIENTS
