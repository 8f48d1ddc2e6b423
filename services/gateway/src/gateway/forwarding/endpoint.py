"""`/api/v1/<service>/<path>` as a plain ASGI app, and the shortcut that reaches it before FastAPI's router.

Why: every forwarded request paid for FastAPI's route matching over all of the gateway's routes and its
dependency solving (a third of the gateway's CPU per forwarded request, measured with py-spy), work that
says nothing a forwarded request needs. The rules themselves are not here: who calls is `current_caller`
(gateway.context), what it may do and the audit are `forward` (gateway.forwarding.service), errors are
answered by the app's own exception handlers, so `/api/v1` and `/fhir/R4` keep one set of rules.

`ForwardEndpoint` is both the router's route for these paths (reached for what the shortcut leaves to the
router: an unknown service, a method no route takes) and what the shortcut calls. `ForwardingShortcut`
sits in the middleware stack after CORS, the correlation id, the metrics and the body limit (their work
is the same for every request), and claims a request only where no route of the gateway's own could
match it: a known service, one of the forwarded methods, not a path the gateway serves itself.
"""

from collections.abc import Collection

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.context import API_PREFIX, Gateway, current_caller, verified_token
from gateway.forwarding import service as forwarding

PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
FORWARDED_PATH = f"{API_PREFIX}/{{service}}/{{path:path}}"


async def answer_error(request: Request, exc: Exception) -> Response:
    """The answer the app's exception handlers give `exc` (as starlette's ExceptionMiddleware looks them up:
    by the exception's class, then its bases); re-raised when none handles it (a 500)."""
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            response: Response = await handler(request, exc)
            return response
    raise exc


class ForwardEndpoint:
    """The forwarding route's ASGI app: the caller, then the forwarded request, or the error's answer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        gateway: Gateway = request.app.state.gateway
        params = scope["path_params"]
        try:
            caller = await current_caller(request, gateway, await verified_token(request, gateway))
            response = await forwarding.forward(gateway, params["service"], params["path"], request, caller)
        except Exception as exc:  # noqa: BLE001 - answered by the app's handler for it, or re-raised
            response = await answer_error(request, exc)
        await response(scope, receive, send)


def forwarding_route() -> Route:
    """The router's route: only the forwarded methods (starlette would add HEAD to a GET route)."""
    route = Route(FORWARDED_PATH, endpoint=ForwardEndpoint(), methods=PROXY_METHODS, include_in_schema=False)
    assert route.methods is not None
    route.methods.discard("HEAD")
    return route


class ForwardingShortcut:
    """Sends `/api/v1/<service>/...` of a known service straight to `endpoint`, past the router."""

    def __init__(self, app: ASGIApp, *, route: Route, services: Collection[str], served_here: tuple[str, ...]) -> None:
        self.app = app
        self.route = route
        self.endpoint = route.app
        self.services = frozenset(services)
        self.served_here = served_here  # path prefixes under a service's name that the gateway's own routes serve
        self.methods = frozenset(PROXY_METHODS)
        self.prefix = f"{API_PREFIX}/"

    def claims(self, scope: Scope) -> tuple[str, str] | None:
        """(service, path within it) if the router would give this request to the forwarding route."""
        if scope["type"] != "http" or scope["method"] not in self.methods or scope.get("root_path"):
            return None
        path: str = scope["path"]
        if not path.startswith(self.prefix) or path.startswith(self.served_here):
            return None
        service, slash, rest = path[len(self.prefix) :].partition("/")
        return (service, rest) if slash and service in self.services else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        claimed = self.claims(scope)
        if claimed is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route  # what the router sets: the metrics name the route by its template
        scope["path_params"] = {"service": claimed[0], "path": claimed[1]}
        await self.endpoint(scope, receive, send)
