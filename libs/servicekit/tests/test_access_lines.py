"""The access log: a JSON line per request, written in batches, the shape JsonFormatter gives every other line."""

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from servicekit.app import CorrelationMiddleware
from servicekit.logs import ACCESS_LOGGER, AccessLines, JsonFormatter, access_lines, correlated


async def _item(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.path_params["item_id"], status_code=201)


async def _health(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


@pytest.fixture(autouse=True)
def access_logger_at_info() -> Iterator[None]:
    """As configure_logging leaves it in a service (INFO); the tests' root logger may be quieter."""
    logger = logging.getLogger(ACCESS_LOGGER)
    before = logger.level
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(before)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """The process's access lines written to a stream of the test's own, as configure_logging points them."""
    written = io.StringIO()
    service, before = access_lines.service, access_lines.stream
    access_lines.configure("tested", written)
    yield written
    access_lines.configure(service, before)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_each_request_has_its_line_once_flushed_and_probes_have_none(stream: io.StringIO) -> None:
    app = CorrelationMiddleware(Starlette(routes=[Route("/things/{item_id}", _item), Route("/healthz", _health)]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        await http.get("/things/7", headers={"x-correlation-id": "abc-1"})
        await http.get("/healthz")
        await http.get("/nowhere")
        assert stream.getvalue() == ""  # batched: nothing written yet
        await asyncio.sleep(access_lines.flush_seconds * 3)
    first, missing = _lines(stream)
    assert first["message"] == "GET /things/7 201" and first["correlation_id"] == "abc-1"
    assert {k: first[k] for k in ("level", "service", "logger", "method", "path", "status")} == {
        "level": "INFO",
        "service": "tested",
        "logger": ACCESS_LOGGER,
        "method": "GET",
        "path": "/things/7",
        "status": 201,
    }
    assert isinstance(first["duration_ms"], float) and str(first["time"]).endswith("+00:00")
    assert missing["path"] == "/nowhere" and missing["status"] == 404


def test_a_line_has_the_fields_and_order_of_the_formatter_for_the_same_record() -> None:
    stream = io.StringIO()
    lines = AccessLines()
    lines.configure("gateway", stream)
    with correlated("c-9"):
        lines.request("POST", "/api/v1/clinical/his/records", 422, 0.012345)
    lines.flush()
    written = json.loads(stream.getvalue())
    fields = {"method": "POST", "path": "/api/v1/clinical/his/records", "status": 422, "duration_ms": 12.35}
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 1, "%s %s %s", ("POST", fields["path"], 422), None)
    record.fields = fields
    with correlated("c-9"):
        formatted = json.loads(JsonFormatter("gateway").format(record))
    assert list(written) == list(formatted)
    assert {k: v for k, v in written.items() if k != "time"} == {k: v for k, v in formatted.items() if k != "time"}


def test_lines_are_written_when_the_buffer_fills_and_in_order() -> None:
    stream = io.StringIO()
    lines = AccessLines(flush_bytes=1000)
    lines.configure("gateway", stream)
    for n in range(5):
        lines.request("GET", f"/p/{n}", 200, 0.001)  # no event loop: each written at once
    assert [line["path"] for line in _lines(stream)] == [f"/p/{n}" for n in range(5)]


async def test_a_full_buffer_is_written_without_waiting_for_the_timer() -> None:
    stream = io.StringIO()
    lines = AccessLines(flush_seconds=60, flush_bytes=2000)
    lines.configure("gateway", stream)
    sent = 0
    while not stream.getvalue():
        lines.request("GET", f"/p/{sent}", 200, 0.001)
        sent += 1
    assert 2 < sent < 40 and [line["path"] for line in _lines(stream)] == [f"/p/{n}" for n in range(sent)]
    lines.request("GET", f"/p/{sent}", 200, 0.001)
    assert len(_lines(stream)) == sent  # the next line waits for the next flush
    lines.flush()  # what the service's shut-down does
    assert [line["path"] for line in _lines(stream)] == [f"/p/{n}" for n in range(sent + 1)]


def test_the_access_loggers_level_still_decides() -> None:
    stream = io.StringIO()
    lines = AccessLines()
    lines.configure("gateway", stream)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.WARNING)
    lines.request("GET", "/quiet", 200, 0.001)
    lines.flush()
    assert stream.getvalue() == ""


def test_plain_text_logs_take_each_line_through_logging(caplog: pytest.LogCaptureFixture) -> None:
    lines = AccessLines()
    lines.configure("gateway", None)
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        lines.request("GET", "/readable", 204, 0.002)
    [record] = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert record.getMessage() == "GET /readable 204"


def test_a_line_left_on_a_closed_loop_goes_out_with_the_next_loops_lines() -> None:
    """In-process apps (tests) may close their event loop before its flush timer fires."""
    stream = io.StringIO()
    lines = AccessLines(flush_seconds=0.05)
    lines.configure("gateway", stream)

    async def one_request(path: str, wait: float) -> None:
        lines.request("GET", path, 200, 0.001)
        await asyncio.sleep(wait)

    asyncio.run(one_request("/first", 0))  # the loop closes with its timer pending
    assert stream.getvalue() == ""
    asyncio.run(one_request("/second", 0.2))
    assert [line["path"] for line in _lines(stream)] == ["/first", "/second"]
