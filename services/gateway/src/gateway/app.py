"""`uvicorn --factory gateway.app:create_app`"""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from starlette.middleware import Middleware

from gateway.audit import routes as audit_routes
from gateway.audit import service as audit_service
from gateway.audit.journal import AuditJournal
from gateway.audit.trail import AuditTrail
from gateway.auth import routes as auth_routes
from gateway.auth.oidc import Authenticator, ExternalIssuer
from gateway.auth.sessions import Sessions
from gateway.auth.tokens import TokenIssuer, ensure_rsa_key
from gateway.break_glass import routes as break_glass_routes
from gateway.break_glass.store import BreakGlass
from gateway.context import Gateway, token_subject
from gateway.domain import LockoutPolicy
from gateway.fhir import errors as fhir_errors
from gateway.fhir import routes as fhir_routes
from gateway.forwarding import public
from gateway.forwarding import routes as forwarding_routes
from gateway.forwarding.endpoint import ForwardingShortcut
from gateway.forwarding.limits import BodyLimitMiddleware, RateLimiter, TooManyRequests
from gateway.forwarding.proxy import Proxy
from gateway.grants import routes as grants_routes
from gateway.grants.store import GrantStore
from gateway.identities import routes as identities_routes
from gateway.identities.store import IdentityStore
from gateway.identity import Directory
from gateway.projections import consumers
from gateway.settings import GatewaySettings
from gateway.tables import metadata
from servicekit.app import ReadinessCheck, create_service_app
from servicekit.auth import InternalTokenSigner
from servicekit.docs import serve_docs
from servicekit.errors import problem_response
from servicekit.keys import ensure_keypair
from servicekit.runtime import build_runtime

TITLE = "CadreCare"
DESCRIPTION = "Health-care registry, exams, clinical records and reports for the boards that care for leading officials."
# FHIR's among them: If-Match and If-None-Exist (versions, conditional create), Prefer (respond-async), and the
# Content-Location, X-Progress and ETag its answers carry
ALLOWED_HEADERS = [
    "authorization", "content-type", "accept", "accept-language", "idempotency-key", "x-correlation-id",
    "if-match", "if-none-exist", "prefer",
]  # fmt: skip
EXPOSED_HEADERS = ["x-correlation-id", "retry-after", "location", "content-disposition", "content-location", "x-progress", "etag"]


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
    journal = (
        AuditJournal(settings.audit_journal_dir, fsync=settings.audit_journal_fsync)
        if settings.audit_durability == "journal"
        else None
    )
    cache = settings.grants_cache_seconds
    lockout = LockoutPolicy(settings.signin_max_failures, settings.signin_lockout_minutes)
    identities = IdentityStore(runtime.db, directory, lockout=lockout, cache_seconds=cache)
    return Gateway(
        settings=settings,
        runtime=runtime,
        directory=directory,
        identities=identities,
        issuer=issuer,
        authenticator=Authenticator(issuer, [ExternalIssuer(p, jwks_client) for p in settings.oidc_providers]),
        grants=GrantStore(runtime.db, directory, known=identities.exists, cache_seconds=cache),
        break_glass=BreakGlass(runtime.db, default_minutes=settings.break_glass_minutes, cache_seconds=cache),
        audit=AuditTrail(
            runtime.db,
            retention_days=settings.audit_retention_days,
            journal=journal,
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


def readiness(gateway: Gateway) -> dict[str, ReadinessCheck]:
    """Ready when its database is, and every service answers its own /readyz (the broker is the services' concern)."""

    async def database() -> None:
        await gateway.runtime.db.ping()

    def upstream(url: str) -> ReadinessCheck:
        async def check() -> str | None:
            try:
                answer = await gateway.proxy.client.get(f"{url}/readyz", timeout=2)
            except httpx.HTTPError as exc:
                return f"unreachable ({type(exc).__name__})"
            return None if answer.status_code == 200 else f"not ready ({answer.status_code})"

        return check

    return {"database": database, **{name: upstream(url) for name, url in gateway.settings.upstreams.items()}}


def held_by(gateway: Gateway) -> Callable[[], AbstractAsyncContextManager[None]]:
    """What the gateway sets up before its workers start, and closes after they stop."""

    @asynccontextmanager
    async def resources() -> AsyncIterator[None]:
        await gateway.identities.follow_file()  # the principals file seeds who may sign in
        await gateway.grants.bootstrap_all()  # before a reorganisation arrives: the file's grants must be rows
        await gateway.audit.recover()
        try:
            yield
        finally:
            await gateway.audit.close()
            await gateway.proxy.close()
            for external in gateway.authenticator.external.values():
                await external.jwks.client.aclose()

    return resources


async def on_rate_limited(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TooManyRequests)
    return problem_response(429, exc.code, exc.detail, headers={"retry-after": str(exc.retry_after)})


def create_app(
    settings: GatewaySettings | None = None,
    *,
    run_workers: bool = True,
    mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """`mounts` route upstream URLs to in-process transports (tests drive the real service apps over ASGI)."""
    settings = settings or GatewaySettings()
    gateway = build_gateway(settings, mounts)
    cors = Middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=forwarding_routes.PROXY_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
    shortcut = Middleware(
        ForwardingShortcut,
        route=forwarding_routes.forward,
        services=settings.upstreams,
        served_here=(public.PUBLIC_PREFIX,),
    )
    app = create_service_app(
        gateway.runtime,
        title=TITLE,
        description=DESCRIPTION,
        routers=[
            auth_routes.router,
            grants_routes.router,
            break_glass_routes.router,
            identities_routes.router,
            identities_routes.secret_router,
            audit_routes.router,
            auth_routes.well_known,
            forwarding_routes.dashboard,
            forwarding_routes.documents,
            fhir_routes.router,
            forwarding_routes.router,
        ],
        consumers=lambda runtime: consumers(runtime, gateway.grants),
        run_workers=run_workers,
        publishes_events=False,
        housekeeping=[("audit-retention", lambda: audit_service.apply_retention(gateway))],
        resources=held_by(gateway),
        readiness=readiness(gateway),
        inner_middleware=[Middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes), shortcut],
        outer_middleware=[cors],
        idempotency_owner=token_subject,
        serves_own_docs=False,
    )
    serve_docs(app, "/openapi.json", "CadreCare API")  # the merged document of every service
    app.state.gateway = gateway
    app.add_exception_handler(TooManyRequests, on_rate_limited)
    fhir_errors.install(app)  # last: under /fhir/R4 every error above becomes an OperationOutcome
    return app
