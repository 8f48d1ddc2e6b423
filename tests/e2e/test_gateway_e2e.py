"""The gateway as a process in front of the services, with the real broker: demo principals, grants as
data, the audit trail, and grants that follow a reorganisation the registry publishes."""

import json
import socket
import time
from contextlib import closing

import httpx
import pytest

from devstack import demo
from devstack.stack import Stack
from tests.e2e.conftest import login
from tests.e2e.helpers import eventually, new_cadre

pytestmark = [pytest.mark.e2e, pytest.mark.own_stack]  # it reorganises units the other modules use
API = "/api/v1"


def test_demo_principals_sign_in(stack: Stack, admin: httpx.Client) -> None:
    for username in demo.DEMO_USERS:
        with closing(login(stack, username)) as client:
            me = client.get(f"{API}/auth/me")
            assert me.status_code == 200 and me.json()["subject"] == f"user:{username}"
            assert me.json()["grants"], username
    with httpx.Client(base_url=stack.config.gateway_url) as http:
        secret = demo.DEMO_CLIENTS["his-bvdk-lamdong"]
        token = http.post(
            f"{API}/auth/token",
            data={"grant_type": "client_credentials", "client_id": "his-bvdk-lamdong", "client_secret": secret},
        )
        assert token.status_code == 200
        his = {"authorization": f"Bearer {token.json()['access_token']}"}
        assert http.get(f"{API}/registry/cadres", headers=his).status_code == 403  # a HIS client cannot list cadres
        assert http.get(f"{API}/reporting/cadre-counts", params={"unit": "VN.68"}, headers=his).status_code == 403


def test_reads_are_audited_and_the_chain_verifies(stack: Stack, admin: httpx.Client) -> None:
    created = admin.post(f"{API}/registry/cadres", json=new_cadre("VN.68.672"))
    assert created.status_code == 201, created.text
    cadre_id = created.json()["id"]
    with closing(login(stack, "dalat")) as dalat:
        read = dalat.get(f"{API}/registry/cadres/{cadre_id}")
        assert read.status_code == 200 and "x-audit-subjects" not in read.headers
        assert dalat.post(f"{API}/gateway/grants", json={}).status_code == 403  # a district user cannot change grants
    trail = admin.get(f"{API}/gateway/audit", params={"cadre_id": cadre_id}).json()
    assert {(r["actor"], r["outcome"]) for r in trail["items"]} >= {("user:dalat", "success"), ("user:admin", "success")}
    verified = admin.get(f"{API}/gateway/audit/verify").json()
    assert verified["valid"] and verified["records_checked"] >= 3


def test_grants_follow_a_merge_published_by_the_registry_and_never_widen(stack: Stack, admin: httpx.Client) -> None:
    """Bảo Lộc merged into Đà Lạt: a grant on Bảo Lộc would widen to all of the merged Đà Lạt, so the gateway
    revokes it when the registry's event arrives; Đà Lạt's own board (the survivor) keeps its unit."""
    reorganisation = {
        "effective_date": "2025-07-01",
        "reason": "Nghị quyết sáp nhập (e2e)",
        "operations": [{"kind": "merge", "sources": ["VN.68.672", "VN.68.673"], "target": "VN.68.672"}],
    }
    grant = {"subject": "user:dalat", "unit_path": "VN.68.673", "tiers": ["district"], "actions": ["read"], "reason": "cover"}
    created = admin.post(f"{API}/gateway/grants", json=grant)
    assert created.status_code == 201, created.text
    answer = admin.post(f"{API}/registry/units/reorganisations", json=reorganisation)
    assert answer.status_code in (200, 201), answer.text

    def history() -> list[dict[str, object]]:
        grants: list[dict[str, object]] = admin.get(
            f"{API}/gateway/grants", params={"subject": "user:dalat", "history": "true"}
        ).json()
        return grants

    def revoked() -> bool:
        return any(g["id"] == created.json()["id"] and g["revoked_at"] for g in history())

    eventually(revoked, timeout=30)
    assert not [g for g in history() if g["replaces"] == created.json()["id"]]  # moved nowhere: nothing widened
    with closing(login(stack, "dalat")) as dalat:
        paths = {g["unit_path"] for g in dalat.get(f"{API}/auth/me").json()["grants"]}
    assert paths == {"VN.68.672"}


def test_a_client_that_disconnects_mid_request_is_logged_as_such_in_json(stack: Stack, admin: httpx.Client) -> None:
    log_file = stack.logs_dir / "gateway.log"
    start = log_file.stat().st_size
    head = (
        f"POST {API}/registry/cadres HTTP/1.1\r\nHost: gateway\r\n{_auth_line(admin)}"
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"full_name":'
    )
    with socket.create_connection((stack.config.host, stack.config.gateway_port)) as half_sent:
        half_sent.sendall(head.encode())
        time.sleep(0.3)  # the gateway is reading the body when the client goes
    assert admin.get(f"{API}/auth/me").status_code == 200  # the gateway serves on

    def logged() -> list[dict[str, object]] | None:
        with log_file.open("rb") as lines:
            lines.seek(start)
            entries = [json.loads(line) for line in lines.read().decode().splitlines()]  # every line is JSON
        seen = [e for e in entries if e.get("message") == "client disconnected before its request was read"]
        return entries if seen else None

    entries = eventually(logged, timeout=10)
    assert not [e for e in entries if e.get("status") == 500 or e.get("level") == "ERROR"]


def _auth_line(client: httpx.Client) -> str:
    return f"Authorization: {client.headers['authorization']}\r\n"
