"""The platform's routes that the gateway forwards or documents: `/api/v1/<service>/<path>` (every
service's API, behind the gateway's rules and audit: gateway.forwarding.endpoint), the public dashboard
files, and the merged API documents. Plain APIRouters: a forwarded POST's Idempotency-Key is the service's
to honour."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse, Response

from contracts.asyncapi import asyncapi_document
from gateway.context import GatewayDep
from gateway.forwarding import public
from gateway.forwarding.docs import merged_openapi
from gateway.forwarding.endpoint import PROXY_METHODS, forwarding_route

__all__ = ["PROXY_METHODS", "dashboard", "documents", "forward", "router"]

documents = APIRouter(include_in_schema=False)
dashboard = APIRouter(include_in_schema=False)  # included before `router`: its paths are matched first
router = APIRouter(include_in_schema=False)


@documents.get("/openapi.json")
async def openapi(request: Request, gateway: GatewayDep) -> dict[str, Any]:
    app = request.app
    own = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    return await merged_openapi(own, gateway.settings.upstreams, gateway.proxy.client)


@documents.get("/asyncapi.json")
async def asyncapi() -> dict[str, Any]:
    return asyncapi_document()


@dashboard.get("/dashboard")
async def dashboard_redirect() -> RedirectResponse:
    return RedirectResponse(f"{public.PUBLIC_PREFIX}/", status_code=307)


@dashboard.get(public.PUBLIC_PREFIX)
async def dashboard_root() -> RedirectResponse:
    return RedirectResponse(f"{public.PUBLIC_PREFIX}/", status_code=307)


@dashboard.get(f"{public.PUBLIC_PREFIX}/{{path:path}}")
async def dashboard_file(path: str, request: Request, gateway: GatewayDep) -> Response:
    return await public.dashboard_file(gateway, path, request)


forward = forwarding_route()  # what the shortcut (gateway.forwarding.endpoint) leaves to the router ends here too
router.routes.append(forward)
