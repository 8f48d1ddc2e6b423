"""`uvicorn --factory gateway.app:create_app`"""

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response

from contracts.api.common import Health
from contracts.asyncapi import asyncapi_document
from gateway import admin_routes, auth_routes, forwarding, public
from gateway.audit_journal import AuditJournal
from gateway.audit_trail import AuditEntry, AuditTrail
from gateway.break_glass import BreakGlass
from gateway.context import CallerDep, Gateway, GatewayDep, token_subject
from gateway.docs import API_PREFIX, merged_openapi
from gateway.grant_store import GrantStore
from gateway.identity import Directory
from gateway.limits import BodyLimitMiddleware, RateLimiter, TooManyRequests
from gateway.oidc import Authenticator, ExternalIssuer
from gateway.projections import consumers
from gateway.proxy import Proxy
from gateway.sessions import Sessions
from gateway.settings import GatewaySettings
from gateway.tables import metadata
from gateway.tokens import TokenIssuer, ensure_rsa_key
from servicekit.app import CorrelationMiddleware, background_tasks
from servicekit.auth import InternalTokenSigner
from servicekit.errors import install_error_handlers, problem_response
from servicekit.idempotency import install_idempotency
from servicekit.keys import ensure_keypair
from servicekit.logs import configure_logging
from servicekit.metrics import MetricsMiddleware, metrics_endpoint
from servicekit.runtime import build_runtime

log = logging.getLogger(__name__)

PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
RETENTION_EVERY_SECONDS = 6 * 3600


async def _apply_retention(gateway: Gateway) -> None:
    while True:
        try:
            purged = await gateway.audit.purge_expired()
            if purged.purged:
                entry = AuditEntry(
                    actor="system:retention",
                    actor_kind="system",
                    operation="gateway:audit.purge",
                    method="-",
                    path="-",
                    outcome="success",
                    status_code=200,
                    detail=f"{purged.purged} records older than {gateway.settings.audit_retention_days} days",
                )
                await gateway.audit.append(entry)
        except Exception:
            log.exception("audit retention failed")
        await asyncio.sleep(RETENTION_EVERY_SECONDS)


def build_gateway(settings: GatewaySettings, mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> Gateway:
    ensure_keypair(settings.internal_private_key_file, settings.internal_public_key_file)
    runtime = build_runtime(settings, metadata)
    directory = Directory(settings.principals_file)
    issuer = TokenIssuer(
        ensure_rsa_key(settings.issuer_private_key_file),
        issuer=settings.issuer,
        audience=settings.audience,
        ttl_seconds=settings.access_token_seconds,
    )
    jwks_client = httpx.AsyncClient(timeout=5)
    signer = InternalTokenSigner(
        settings.internal_private_key_file.read_bytes(), settings.internal_audience, settings.internal_token_seconds
    )
    cache = settings.grants_cache_seconds
    return Gateway(
        settings=settings,
        runtime=runtime,
        directory=directory,
        issuer=issuer,
        authenticator=Authenticator(issuer, [ExternalIssuer(p, jwks_client) for p in settings.oidc_providers]),
        grants=GrantStore(runtime.db, directory, cache_seconds=cache),
        break_glass=BreakGlass(runtime.db, default_minutes=settings.break_glass_minutes, cache_seconds=cache),
        audit=AuditTrail(
            runtime.db,
            retention_days=settings.audit_retention_days,
            journal=AuditJournal(settings.audit_journal_dir, fsync=settings.audit_journal_fsync)
            if settings.audit_durability == "journal"
            else None,
        ),
        sessions=Sessions(runtime.db, refresh_seconds=settings.refresh_token_seconds, cache_seconds=cache),
        limiter=RateLimiter(settings.rate_per_second, settings.rate_burst),
        token_limiter=RateLimiter(settings.token_rate_per_minute / 60, max(1, int(settings.token_rate_per_minute))),
        proxy=Proxy(
            settings.upstreams,
            signer,
            timeout=settings.upstream_timeout_seconds,
            token_cache_seconds=settings.internal_token_cache_seconds,
            mounts=mounts,
        ),
    )


def create_app(
    settings: GatewaySettings | None = None,
    *,
    run_workers: bool = True,
    mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """`mounts` route upstream URLs to in-process transports (tests drive the real service apps over ASGI)."""
    settings = settings or GatewaySettings()
    configure_logging("gateway", settings.log_level, settings.log_json)
    gateway = build_gateway(settings, mounts)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        workers: list[tuple[str, Coroutine[Any, Any, None]]] = []
        await gateway.grants.bootstrap_all()
        await gateway.audit.recover()
        if run_workers:
            workers += [(f"consumer-{c.name}", c.run()) for c in consumers(gateway.runtime, gateway.grants)]
            workers.append(("audit-retention", _apply_retention(gateway)))
        try:
            async with background_tasks(workers):
                yield
        finally:
            await gateway.audit.close()
            await gateway.proxy.close()
            for external in gateway.authenticator.external.values():
                await external.jwks.client.aclose()
            await gateway.runtime.broker.close()
            await gateway.runtime.db.dispose()

    app = FastAPI(
        title="CadreCare",
        description="Health-care registry, exams, clinical records and reports for the boards that care for leading officials.",
        version="1",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.gateway = gateway
    app.state.runtime = gateway.runtime
    install_error_handlers(app)
    install_idempotency(app, owner_of=token_subject)

    async def on_rate_limited(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TooManyRequests)
        return problem_response(429, exc.code, exc.detail, headers={"retry-after": str(exc.retry_after)})

    app.add_exception_handler(TooManyRequests, on_rate_limited)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(CorrelationMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=PROXY_METHODS,
        allow_headers=["authorization", "content-type", "accept", "accept-language", "idempotency-key", "x-correlation-id"],
        expose_headers=["x-correlation-id", "retry-after", "location", "content-disposition"],
        max_age=600,
    )
    app.include_router(auth_routes.router, prefix=API_PREFIX)
    app.include_router(admin_routes.router, prefix=API_PREFIX)
    app.include_router(auth_routes.well_known)
    app.include_router(public.router)  # before the forwarding route below: matched first

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, tags=["health"], responses={503: {"model": Health}})
    async def readyz() -> Response:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(gateway.runtime.db.ping(), 2)
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"failed: {type(exc).__name__}"
        for service, url in settings.upstreams.items():
            try:
                answer = await gateway.proxy.client.get(f"{url}/readyz", timeout=2)
                checks[service] = "ok" if answer.status_code == 200 else f"not ready ({answer.status_code})"
            except httpx.HTTPError as exc:
                checks[service] = f"unreachable ({type(exc).__name__})"
        ready = all(v == "ok" for v in checks.values())
        health = Health(status="ready" if ready else "not_ready", checks=checks)
        return JSONResponse(health.model_dump(), status_code=200 if ready else 503)

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        own = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        return await merged_openapi(own, settings.upstreams, gateway.proxy.client)

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> dict[str, Any]:
        return asyncapi_document()

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="CadreCare API")

    @app.api_route(f"{API_PREFIX}/{{service}}/{{path:path}}", methods=PROXY_METHODS, include_in_schema=False)
    async def forward(service: str, path: str, request: Request, caller: CallerDep, gateway: GatewayDep) -> Response:
        return await forwarding.forward(gateway, service, path, request, caller)

    return app
