"""The bare proxy bench gateway measures forwards what the gateway would forward, and nothing else."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from bench import bare_proxy

CONNECTIONS: list[int] = []


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A service answering each request with its request line, headers and body, as JSON (keep-alive)."""
    CONNECTIONS.append(id(writer))
    try:
        with contextlib.suppress(asyncio.IncompleteReadError):
            while True:
                await answer_one(reader, writer)
    finally:
        writer.close()


async def answer_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
    headers = dict(line.split(": ", 1) for line in lines)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    echoed = json.dumps({"line": request_line, "headers": headers, "body": body.decode()}).encode()
    writer.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\netag: "v1"\r\nx-service: echo\r\n')
    writer.write(b"content-length: %d\r\n\r\n%s" % (len(echoed), echoed))
    await writer.drain()


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    CONNECTIONS.clear()
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("BARE_PROXY_UPSTREAM", f"http://127.0.0.1:{port}")
    app = bare_proxy.create_app()
    lifespan: asyncio.Queue[bare_proxy.Message] = asyncio.Queue()
    lifespan.put_nowait({"type": "lifespan.startup"})

    async def ignored(_message: bare_proxy.Message) -> None:
        pass

    running = asyncio.create_task(app({"type": "lifespan"}, lifespan.get, ignored))
    transport = httpx.ASGITransport(app=app)
    async with server, httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
        yield client
        lifespan.put_nowait({"type": "lifespan.shutdown"})  # the proxy closes its connections to the service
        await running


async def test_the_path_query_headers_and_body_reach_the_service_and_its_answer_comes_back(proxy: httpx.AsyncClient) -> None:
    sent = {"authorization": "Bearer t", "content-type": "application/json", "x-other": "kept back"}
    answer = await proxy.post("/api/v1/registry/units?under=VN.68", content=b'{"a": 1}', headers=sent)

    assert answer.status_code == 200
    assert answer.headers["etag"] == '"v1"'  # a header the gateway forwards
    assert "x-service" not in answer.headers  # one it does not
    assert answer.headers["content-length"] == str(len(answer.content))
    echoed = answer.json()
    assert echoed["line"] == "POST /units?under=VN.68 HTTP/1.1"
    assert echoed["headers"]["authorization"] == "Bearer t"
    assert echoed["headers"]["content-type"] == "application/json"
    assert "x-other" not in echoed["headers"]
    assert echoed["headers"]["host"].startswith("127.0.0.1:")  # the service's, not the proxy's
    assert echoed["body"] == '{"a": 1}'


async def test_one_connection_to_the_service_serves_requests_one_after_another(proxy: httpx.AsyncClient) -> None:
    for _ in range(3):
        assert (await proxy.get("/api/v1/registry/cadres")).json()["line"] == "GET /cadres HTTP/1.1"

    assert len(CONNECTIONS) == 1
