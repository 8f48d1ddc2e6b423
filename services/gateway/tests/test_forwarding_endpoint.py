"""The forwarding endpoint reached past FastAPI's router (gateway.forwarding.endpoint): the same answers as
through the router, for what the shortcut claims and for what it leaves to the router."""

import asyncio
from collections.abc import Collection
from typing import Any

import pytest
from board_seed import API, principals, seeded
from gateway_harness import PlatformFactory
from prometheus_client import REGISTRY
from starlette.routing import Route

from gateway.forwarding.endpoint import FORWARDED_PATH, ForwardingShortcut, forwarding_route
from gateway.forwarding.public import PUBLIC_PREFIX


async def _never(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not reached")


def _scope(method: str, path: str, **extra: Any) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "headers": [], **extra}


def test_the_shortcut_claims_only_what_the_router_would_forward() -> None:
    shortcut = ForwardingShortcut(
        _never, route=forwarding_route(), services=("registry", "reporting"), served_here=(PUBLIC_PREFIX,)
    )
    assert shortcut.claims(_scope("GET", f"{API}/registry/cadres/x")) == ("registry", "cadres/x")
    assert shortcut.claims(_scope("DELETE", f"{API}/registry/")) == ("registry", "")
    assert shortcut.claims(_scope("POST", f"{API}/reporting/reports/board")) == ("reporting", "reports/board")
    # the gateway's own routes, an unknown service, other methods, a service without a path: the router's
    assert shortcut.claims(_scope("GET", f"{PUBLIC_PREFIX}/index.html")) is None
    assert shortcut.claims(_scope("GET", PUBLIC_PREFIX)) is None
    assert shortcut.claims(_scope("GET", f"{API}/auth/token")) is None
    assert shortcut.claims(_scope("GET", f"{API}/gateway/audit")) is None
    assert shortcut.claims(_scope("GET", f"{API}/nosuch/x")) is None
    assert shortcut.claims(_scope("GET", f"{API}/registry")) is None
    assert shortcut.claims(_scope("HEAD", f"{API}/registry/units")) is None
    assert shortcut.claims(_scope("OPTIONS", f"{API}/registry/units")) is None
    assert shortcut.claims(_scope("GET", "/fhir/R4/Patient")) is None
    assert shortcut.claims({"type": "websocket", "path": f"{API}/registry/units"}) is None


def test_the_route_takes_the_forwarded_methods_only() -> None:
    route = forwarding_route()
    assert isinstance(route, Route) and route.path == FORWARDED_PATH
    assert route.methods == {"GET", "POST", "PUT", "PATCH", "DELETE"}  # no HEAD: a HEAD's answer has no body to read


async def test_scope_audit_and_errors_as_through_the_router(make_platform: PlatformFactory) -> None:
    platform, ids = await seeded(make_platform, "sqlite")
    http = platform.http
    admin, dalat = await platform.headers("admin"), await platform.headers("dalat")

    read = await http.get(f"{API}/registry/cadres/{ids['dalat']}", headers={**dalat, "x-correlation-id": "fast-1"})
    assert read.status_code == 200 and read.json()["id"] == ids["dalat"]
    assert read.headers["x-correlation-id"] == "fast-1" and "x-audit-subjects" not in read.headers
    outside = await http.get(f"{API}/registry/cadres/{ids['baoloc']}", headers=dalat)
    assert outside.status_code == 404 and outside.json()["code"] == "not_found"
    denied = await http.post(f"{API}/registry/cadres", json={}, headers=await platform.headers("auditor-dalat"))
    assert denied.status_code == 403 and denied.json()["code"] in ("permission_denied", "out_of_scope")

    await platform.gateway.audit.settled()
    trail = (await http.get(f"{API}/gateway/audit", params={"actor": "user:dalat", "limit": 50}, headers=admin)).json()
    records = {(r["operation"], r["outcome"], tuple(r["subjects"])) for r in trail["items"]}
    assert (f"registry:GET /cadres/{ids['dalat']}", "success", (ids["dalat"],)) in records
    assert (f"registry:GET /cadres/{ids['baoloc']}", "not_found", (ids["baoloc"],)) in records
    fast = next(r for r in trail["items"] if r["operation"] == f"registry:GET /cadres/{ids['dalat']}")
    assert fast["correlation_id"] == "fast-1" and fast["path"] == f"/registry/cadres/{ids['dalat']}"

    # without a token: 401 and nothing forwarded; an unknown service: the router's way, the same endpoint
    anonymous = await http.get(f"{API}/registry/units")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    assert anonymous.json()["correlation_id"] == anonymous.headers["x-correlation-id"]
    unknown = await http.get(f"{API}/nosuch/things", headers=admin)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found" and "nosuch" in unknown.json()["detail"]
    assert (await http.get(f"{API}/nosuch/things")).status_code == 401
    head = await http.head(f"{API}/registry/units", headers=admin)
    assert head.status_code == 405


async def test_limits_rate_and_cors_on_the_shortcut(make_platform: PlatformFactory) -> None:
    origin = "https://dashboard.cadrecare.test"
    platform = await make_platform(principals(), max_body_bytes=2000, rate_per_second=0.01, rate_burst=3, cors_origins=[origin])
    http = platform.http
    admin = await platform.headers("admin")
    json_headers = {**admin, "content-type": "application/json"}

    declared = await http.post(f"{API}/registry/cadres", content=b"[" + b" " * 3000 + b"]", headers=json_headers)
    assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"

    async def chunks() -> Any:
        for _ in range(5):
            yield b" " * 1000

    streamed = await http.post(f"{API}/registry/cadres", content=chunks(), headers=json_headers)
    assert streamed.status_code == 413 and streamed.json()["code"] == "payload_too_large"

    preflight = await http.options(f"{API}/registry/units", headers={"origin": origin, "access-control-request-method": "POST"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == origin
    refused = await http.options(
        f"{API}/registry/units", headers={"origin": "https://evil.example", "access-control-request-method": "GET"}
    )
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers

    # a declared length over the limit is refused before the caller is known; the streamed body took one of
    # the three tokens: two more answers (one with the CORS headers), then 429
    simple = await http.get(f"{API}/registry/units", headers={**admin, "origin": origin})
    assert simple.status_code == 200 and simple.headers["access-control-allow-origin"] == origin
    assert "x-correlation-id" in simple.headers["access-control-expose-headers"]
    answers = [await http.get(f"{API}/registry/units", headers=admin) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 429]
    limited = answers[-1]
    assert limited.json()["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1


async def test_a_forwarded_request_is_counted_under_the_route_template(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals())
    labels = {"method": "GET", "route": FORWARDED_PATH, "status": "200"}

    def count() -> float:
        return REGISTRY.get_sample_value("cadrecare_http_request_seconds_count", labels) or 0.0

    before = count()
    answer = await platform.http.get(f"{API}/registry/units", headers=await platform.headers("admin"))
    assert answer.status_code == 200 and count() == before + 1


async def test_concurrent_callers_share_one_read_of_each_cache(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals())
    http, gateway = platform.http, platform.gateway
    headers = await platform.headers("dalat")
    reads: list[set[str]] = []
    original = gateway.grants._read_grants

    async def counted(subjects: Collection[str]) -> Any:
        reads.append(set(subjects))
        await asyncio.sleep(0.05)  # long enough for every request below to miss meanwhile
        return await original(subjects)

    gateway.grants._cache._read_many = counted
    gateway.grants.invalidate()
    answers = await asyncio.gather(*(http.get(f"{API}/registry/units", headers=headers) for _ in range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert reads == [{"user:dalat"}]


async def test_forwarded_requests_take_the_shortcut(make_platform: PlatformFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    claimed: list[tuple[str, str] | None] = []
    original = ForwardingShortcut.claims

    def spy(self: ForwardingShortcut, scope: Any) -> tuple[str, str] | None:
        result = original(self, scope)
        if scope["type"] == "http":
            claimed.append(result)
        return result

    monkeypatch.setattr(ForwardingShortcut, "claims", spy)
    platform = await make_platform(principals())
    admin = await platform.headers("admin")
    claimed.clear()
    assert (await platform.http.get(f"{API}/registry/units", headers=admin)).status_code == 200
    assert (await platform.http.get(f"{API}/nosuch/units", headers=admin)).status_code == 404
    assert claimed == [("registry", "units"), None]
