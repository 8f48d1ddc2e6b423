"""Limits: body size, page and batch caps, per-principal rate limits (429 + Retry-After), upstream timeouts
(504), CORS allow-list, and the platform's OpenAPI with its security schemes."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from gateway_harness import PlatformFactory, user

from contracts import roles
from contracts.scope import PrincipalKind
from devstack.demo import demo_units
from gateway.forwarding.limits import RateLimiter, TooManyRequests
from gateway.identity import PrincipalsFile
from servicekit.pagination import MAX_PAGE_SIZE

API = "/api/v1"


def principals() -> PrincipalsFile:
    return PrincipalsFile(
        users=[
            user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS),
            user("dalat", PrincipalKind.STAFF, roles.district_board("VN.68.672"), roles.STAFF_PERMISSIONS),
        ]
    )


async def test_body_page_and_batch_caps(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals(), max_body_bytes=4000, max_batch_items=5)
    http = platform.http
    admin = await platform.headers("admin")

    json_headers = {**admin, "content-type": "application/json"}
    big = await http.post(f"{API}/registry/cadres", content=b"{" + b" " * 5000 + b"}", headers=json_headers)
    assert big.status_code == 413 and big.json()["code"] == "payload_too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    streamed = await http.post(f"{API}/registry/cadres", content=chunks(), headers=json_headers)
    assert streamed.status_code == 413

    # the cap is the services' own (servicekit.pagination), enforced by the gateway whatever the parameter's name
    page = await http.get(f"{API}/registry/cadres", params={"limit": MAX_PAGE_SIZE + 1}, headers=admin)
    assert page.status_code == 422 and page.json()["errors"][0]["loc"] == ["query", "limit"]
    named_otherwise = await http.get(f"{API}/registry/cadres", params={"page_size": MAX_PAGE_SIZE + 1}, headers=admin)
    assert named_otherwise.status_code == 422 and named_otherwise.json()["errors"][0]["loc"] == ["query", "page_size"]
    assert (await http.get(f"{API}/registry/cadres", params={"limit": MAX_PAGE_SIZE}, headers=admin)).status_code == 200

    batch = await http.post(f"{API}/registry/units/import", json=demo_units()[:6], headers=admin)
    assert batch.status_code == 422 and batch.json()["errors"][0]["loc"] == ["body"]
    assert (await http.post(f"{API}/registry/units/import", json=demo_units()[:5], headers=admin)).status_code == 200


async def test_per_principal_rate_limit_answers_429_with_retry_after(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals(), rate_per_second=0.5, rate_burst=3)
    http = platform.http
    dalat, admin = await platform.headers("dalat"), await platform.headers("admin")
    answers = [await http.get(f"{API}/registry/units", headers=dalat) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["code"] == "rate_limited" and int(answers[-1].headers["retry-after"]) >= 1
    assert (await http.get(f"{API}/registry/units", headers=admin)).status_code == 200  # per principal, not global


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, 2, clock=lambda: now[0])
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(TooManyRequests) as refused:
        limiter.check("a")  # the third request in the same instant
    assert refused.value.retry_after == 1
    now[0] = 0.5  # one token back at 2 per second
    limiter.check("a")


async def test_upstream_timeout_answers_504_and_is_audited(make_platform: PlatformFactory) -> None:
    slow = FastAPI()

    @slow.get("/cadres/{cadre_id}")
    async def hang(cadre_id: str) -> dict[str, str]:
        await asyncio.sleep(5)
        return {"id": cadre_id}

    platform = await make_platform(principals(), replace={"registry": slow}, upstream_timeout_seconds=0.3)
    admin = await platform.headers("admin")
    answer = await platform.http.get(f"{API}/registry/cadres/7d3f0d0e-34a4-4a8e-9a7e-0f5a3b1c2d4e", headers=admin)
    assert answer.status_code == 504 and answer.json()["code"] == "upstream_timeout"
    trail = (await platform.http.get(f"{API}/gateway/audit", params={"outcome": "timeout"}, headers=admin)).json()
    assert trail["items"][0]["subjects"] == ["7d3f0d0e-34a4-4a8e-9a7e-0f5a3b1c2d4e"]


async def test_cors_allows_only_the_dashboard_origin(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals(), cors_origins=["https://dashboard.cadrecare.test"])
    preflight = {"access-control-request-method": "GET", "access-control-request-headers": "authorization"}
    allowed = await platform.http.options(
        f"{API}/registry/units", headers={**preflight, "origin": "https://dashboard.cadrecare.test"}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://dashboard.cadrecare.test"
    other = await platform.http.options(f"{API}/registry/units", headers={**preflight, "origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


async def test_openapi_declares_security_on_every_protected_operation(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals())
    document = (await platform.http.get("/openapi.json")).json()
    assert set(document["components"]["securitySchemes"]) == {"OAuth2", "BearerJWT"}
    for service in ("registry", "scheduling", "clinical", "reporting", "gateway"):
        assert any(path.startswith(f"{API}/{service}/") for path in document["paths"]), service
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            public = path in (f"{API}/auth/token", f"{API}/auth/revoke", "/healthz", "/readyz")
            assert bool(operation.get("security")) is not public, f"{method} {path}"
            if not public:
                assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
