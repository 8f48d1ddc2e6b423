"""`uvicorn --factory gateway.app:create_app`"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, FastAPI, Form, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response

from contracts.api.auth import TokenResponse
from contracts.api.common import Health
from contracts.asyncapi import asyncapi_document
from contracts.scope import Principal
from gateway.docs import API_PREFIX, merged_openapi
from gateway.identity import Directory
from gateway.proxy import Proxy
from gateway.settings import GatewaySettings
from gateway.tokens import TokenIssuer, ensure_rsa_key
from servicekit.app import CorrelationMiddleware
from servicekit.auth import InternalTokenSigner, Unauthenticated, bearer_token
from servicekit.errors import DomainError, install_error_handlers
from servicekit.keys import ensure_keypair
from servicekit.logs import configure_logging
from servicekit.metrics import MetricsMiddleware, metrics_endpoint

PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class InvalidGrant(DomainError):
    status_code = 400
    code = "invalid_grant"


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    configure_logging("gateway", settings.log_level, settings.log_json)
    internal_public = settings.internal_private_key_file.with_name("internal-public.pem")
    ensure_keypair(settings.internal_private_key_file, internal_public)
    issuer = TokenIssuer(
        ensure_rsa_key(settings.issuer_private_key_file),
        issuer=settings.issuer,
        audience=settings.audience,
        ttl_seconds=settings.access_token_seconds,
    )
    directory = Directory(settings.principals_file)
    signer = InternalTokenSigner(
        settings.internal_private_key_file.read_bytes(), settings.internal_audience, settings.internal_token_seconds
    )
    proxy = Proxy(settings.upstreams, signer, timeout=settings.upstream_timeout_seconds, max_body_bytes=settings.max_body_bytes)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await proxy.close()

    app = FastAPI(
        title="CadreCare",
        description="Health-care registry, exams, clinical records and reports for the boards that care for leading officials.",
        version="1",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(CorrelationMiddleware)

    def caller(request: Request) -> Principal:
        token = bearer_token(request)
        try:
            claims = issuer.verify(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        principal = directory.principal(claims["sub"])
        if principal is None:
            raise Unauthenticated("the token's subject is not known")
        return principal

    Caller = Annotated[Principal, Depends(caller)]

    @app.post(f"{API_PREFIX}/auth/token", response_model=TokenResponse, tags=["auth"])
    async def token(
        grant_type: Annotated[str, Form()],
        username: Annotated[str | None, Form()] = None,
        password: Annotated[str | None, Form()] = None,
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> TokenResponse:
        """OAuth2 password grant (staff users) and client-credentials grant (HIS clients, jobs)."""
        if grant_type == "password" and username and password:
            principal = directory.authenticate_user(username, password)
        elif grant_type == "client_credentials" and client_id and client_secret:
            principal = directory.authenticate_client(client_id, client_secret)
        else:
            raise InvalidGrant(
                "grant_type must be password (username, password) or client_credentials (client_id, client_secret)"
            )
        if principal is None:
            raise InvalidGrant("wrong credentials")
        access_token, expires_in = issuer.issue(principal)
        return TokenResponse(access_token=access_token, expires_in=expires_in)

    @app.get(f"{API_PREFIX}/auth/me", response_model=Principal, tags=["auth"])
    async def me(principal: Caller) -> Principal:
        return principal

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    async def jwks() -> dict[str, Any]:
        return issuer.jwks

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, tags=["health"])
    async def readyz() -> Response:
        checks: dict[str, str] = {}
        for service, url in settings.upstreams.items():
            try:
                answer = await proxy.client.get(f"{url}/readyz", timeout=2)
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
        return await merged_openapi(own, settings.upstreams, proxy.client)

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> dict[str, Any]:
        return asyncapi_document()

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="CadreCare API")

    @app.api_route(f"{API_PREFIX}/{{service}}/{{path:path}}", methods=PROXY_METHODS, include_in_schema=False)
    async def forward(service: str, path: str, request: Request, principal: Caller) -> Response:
        return await proxy.forward(service, path, request, principal)

    return app
