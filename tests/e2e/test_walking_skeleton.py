"""Point 5 of the foundation: a cadre posted through the gateway is counted by reporting, across real processes."""

import asyncio
import json
from contextlib import closing

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from contracts.topics import CADRES
from devstack.stack import Stack
from tests.e2e.conftest import login
from tests.e2e.helpers import eventually, new_cadre, reported_total

pytestmark = pytest.mark.e2e


def test_posted_cadre_reaches_the_reporting_count(stack: Stack, admin: httpx.Client) -> None:
    before = reported_total(admin, "VN.68.672")
    created = admin.post("/api/v1/registry/cadres", json=new_cadre())
    assert created.status_code == 201, created.text
    assert eventually(lambda: reported_total(admin, "VN.68.672") == before + 1, timeout=15)
    assert admin.get(f"/api/v1/registry/cadres/{created.json()['id']}").status_code == 200


def test_every_route_but_health_token_and_docs_needs_a_token(stack: Stack) -> None:
    with httpx.Client(base_url=stack.config.gateway_url) as anonymous:
        for path in [
            "/api/v1/registry/cadres",
            "/api/v1/reporting/cadre-counts?unit=VN",
            "/api/v1/scheduling/roster/summary",
            "/api/v1/clinical/patients/summary",
            "/api/v1/auth/me",
        ]:
            assert anonymous.get(path).status_code == 401, path
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/readyz").status_code == 200
        assert anonymous.get("/asyncapi.json").json()["asyncapi"].startswith("3.")
        assert "/api/v1/registry/cadres" in anonymous.get("/openapi.json").json()["paths"]
        assert anonymous.get("/api/v1/nothing-here/x", headers={"authorization": "Bearer x"}).status_code == 401
        refused = anonymous.post("/api/v1/auth/token", data={"grant_type": "password", "username": "admin", "password": "wrong"})
        assert refused.status_code == 400


def test_scope_follows_the_managing_unit_through_the_gateway(stack: Stack, admin: httpx.Client) -> None:
    baoloc = admin.post("/api/v1/registry/cadres", json=new_cadre(unit="VN.68.673")).json()
    with closing(login(stack, "dalat")) as dalat:
        assert dalat.get(f"/api/v1/registry/cadres/{baoloc['id']}").status_code == 404
        assert dalat.post("/api/v1/registry/cadres", json=new_cadre(unit="VN.68.673")).status_code == 403
        assert dalat.get("/api/v1/nothing-here/x").status_code == 404


def test_bad_input_gets_a_structured_error(admin: httpx.Client) -> None:
    answer = admin.post("/api/v1/registry/cadres", content=b'{"full_name": 5', headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_request"
    wrong = admin.post("/api/v1/registry/cadres", json={**new_cadre(), "sex": "x"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"] == ["body", "sex"]


def test_the_correlation_id_travels_from_the_request_into_the_event_and_the_logs(stack: Stack, admin: httpx.Client) -> None:
    correlation_id = "e2e-corr-" + new_cadre()["national_id"]  # type: ignore[operator]
    created = admin.post("/api/v1/registry/cadres", json=new_cadre(), headers={"x-correlation-id": correlation_id})
    assert created.status_code == 201
    assert created.headers["x-correlation-id"] == correlation_id

    async def correlation_ids_on_the_topic() -> set[str]:
        consumer = AIOKafkaConsumer(CADRES.name, bootstrap_servers=stack.config.kafka_bootstrap, auto_offset_reset="earliest")
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=3000, max_records=100_000)
            return {dict(m.headers).get("ce_correlationid", b"").decode() for ms in batches.values() for m in ms}
        finally:
            await consumer.stop()

    assert eventually(lambda: correlation_id in asyncio.run(correlation_ids_on_the_topic()), timeout=20)

    def logged(service: str) -> list[dict[str, object]]:
        lines = (stack.logs_dir / f"{service}.log").read_text().splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        return [entry for entry in entries if entry.get("correlation_id") == correlation_id]

    # access lines are written in batches (servicekit.logs.AccessLines): within a tenth of a second
    assert eventually(lambda: any(entry.get("path") == "/api/v1/registry/cadres" for entry in logged("gateway")), timeout=5)
    assert eventually(
        lambda: any(entry.get("path") == "/cadres" and entry.get("status") == 201 for entry in logged("registry")), timeout=5
    )
    applied = eventually(lambda: [e for e in logged("reporting") if e.get("consumer") == "reporting-cadres"], timeout=20)
    assert applied[0]["subject"] == created.json()["id"]


def test_every_process_exposes_prometheus_metrics(stack: Stack) -> None:
    with httpx.Client() as client:
        for service in ("registry", "reporting"):
            metrics = client.get(f"{stack.config.service_url(service)}/metrics").text
            assert "cadrecare_http_request_seconds_bucket" in metrics
        assert "cadrecare_outbox_published_total" in client.get(f"{stack.config.service_url('registry')}/metrics").text
        assert "cadrecare_events_consumed_total" in client.get(f"{stack.config.service_url('reporting')}/metrics").text
