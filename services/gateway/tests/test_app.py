"""The gateway's app as servicekit's factory builds it: its own readiness (its database and every service,
not the broker), its documents instead of FastAPI's, and its limits inside the correlation id."""

from gateway_harness import PlatformFactory, user

from contracts import roles
from contracts.scope import PrincipalKind
from gateway.identity import PrincipalsFile

SERVICES = ("registry", "scheduling", "clinical", "reporting")


def principals() -> PrincipalsFile:
    return PrincipalsFile(users=[user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS)])


async def test_readiness_asks_the_database_and_every_service(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals())
    assert (await platform.http.get("/healthz")).json() == {"status": "ok", "checks": {}}
    ready = await platform.http.get("/readyz")
    assert ready.status_code == 503  # the in-process services have no broker: each answers 503 itself
    assert ready.json()["checks"] == {"database": "ok", **{service: "not ready (503)" for service in SERVICES}}


async def test_the_documents_are_the_platforms(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals())
    http = platform.http
    swagger = (await http.get("/docs")).text
    assert "/docs-assets/swagger-ui-bundle.js" in swagger and "cdn" not in swagger.lower()
    redoc = (await http.get("/redoc")).text
    assert "/docs-assets/redoc.standalone.js" in redoc and "fonts.googleapis" not in redoc
    assert (await http.get("/docs-assets/swagger-ui-bundle.js")).status_code == 200
    assert (await http.get("/asyncapi.json")).json()["asyncapi"]
    assert "/metrics" not in (await http.get("/openapi.json")).json()["paths"]


async def test_a_refused_body_still_carries_the_correlation_id(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals(), max_body_bytes=200)
    admin = await platform.headers("admin")
    headers = {**admin, "content-type": "application/json", "x-correlation-id": "c-413"}
    answer = await platform.http.post("/api/v1/registry/cadres", content=b"{" + b" " * 500 + b"}", headers=headers)
    assert answer.status_code == 413 and answer.headers["x-correlation-id"] == "c-413"
