"""The one part of the platform reachable without a token: the reporting dashboard's static files.

`GET /api/v1/reporting/dashboard/{path}` is forwarded to the reporting service's `/dashboard/{path}`
with no token and no caller (the page then signs in and calls the API like any client). Only GET, only
that prefix, only plain file names (no `..`, no query string forwarded): nothing else of the reporting
service is reachable this way. Static files carry no person-level data, so no audit record is written.
`GET /dashboard` is a convenience redirect to the page.
"""

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from gateway.context import API_PREFIX, Gateway
from servicekit.errors import NotFound

SERVICE = "reporting"
PUBLIC_PREFIX = f"{API_PREFIX}/{SERVICE}/dashboard"
UPSTREAM_PREFIX = "dashboard"
REQUEST_HEADERS = ("accept", "accept-language", "if-none-match", "if-modified-since")
RESPONSE_HEADERS = ("content-type", "etag", "last-modified", "cache-control")


def upstream_path(path: str) -> str:
    """The service's path for a requested file; NotFound for anything that could leave the prefix."""
    segments = path.split("/")
    if any(s in (".", "..") or "\\" in s or "\x00" in s for s in segments):
        raise NotFound("no such file")
    return f"{UPSTREAM_PREFIX}/{quote(path, safe='/')}"


async def dashboard_file(gateway: Gateway, path: str, request: Request) -> Response:
    headers = {name: value for name in REQUEST_HEADERS if (value := request.headers.get(name)) is not None}
    answer = await gateway.proxy.fetch_public(SERVICE, upstream_path(path), headers)
    if answer.status_code not in (200, 304):
        raise NotFound("no such file")  # the service's own error pages are not passed on
    kept = {name: value for name in RESPONSE_HEADERS if (value := answer.headers.get(name)) is not None}
    return Response(answer.content, status_code=answer.status_code, headers=kept)
