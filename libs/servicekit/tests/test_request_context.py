"""The one middleware every request crosses for its correlation id, access log and metrics."""

import re

import httpx
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from servicekit.app import CorrelationMiddleware
from servicekit.logs import new_correlation_id


async def _item(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.path_params["item_id"], status_code=201)


def _count(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("cadrecare_http_request_seconds_count", labels) or 0.0


async def test_a_request_is_timed_under_its_route_and_answers_with_its_correlation_id() -> None:
    app = CorrelationMiddleware(Starlette(routes=[Route("/request-context/{item_id}", _item)]))
    before, unmatched = _count("/request-context/{item_id}", "201"), _count("unmatched", "404")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        given = await http.get("/request-context/7", headers={"x-correlation-id": "abc-1"})
        made = await http.get("/request-context/8")
        missing = await http.get("/nowhere")
    assert given.status_code == 201 and given.headers["x-correlation-id"] == "abc-1"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-correlation-id"])
    assert _count("/request-context/{item_id}", "201") == before + 2
    assert missing.status_code == 404 and _count("unmatched", "404") == unmatched + 1


def test_correlation_ids_are_unique_hex_of_uuid_length() -> None:
    ids = [new_correlation_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
