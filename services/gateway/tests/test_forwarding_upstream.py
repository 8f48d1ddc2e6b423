"""The gateway's keep-alive client (gateway.forwarding.upstream) against a real socket server that answers
as a service might: Content-Length and chunked bodies, a body ended by closing, a connection closed while
idle in the pool, a connection closed mid-answer, garbage instead of HTTP."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from gateway.forwarding.upstream import Origin, UpstreamBroken, UpstreamPool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(head, body) of one request; the body by its Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


class Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> Origin:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        origin = Origin.of(f"http://127.0.0.1:{port}")
        assert origin is not None
        return origin


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[tuple[Server, Origin]]]]:
    servers: list[Server] = []

    async def start(handler: Handler) -> tuple[Server, Origin]:
        server = Server(handler)
        servers.append(server)
        return server, await server.start()

    yield start
    for server in servers:
        assert server.server is not None
        server.server.close()


def keep_alive(answer: Callable[[bytes, bytes], bytes], record: list[tuple[bytes, bytes]]) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_request(reader)
            record.append(request)
            writer.write(answer(*request))
            await writer.drain()

    return handler


def echo(head: bytes, body: bytes) -> bytes:
    path = head.split(b" ", 2)[1]
    payload = path + b"|" + body
    return b"HTTP/1.1 201 Created\r\ncontent-type: text/plain\r\nX-Twice: a\r\ncontent-length: %d\r\n\r\n%s" % (
        len(payload),
        payload,
    )


async def test_requests_share_one_kept_alive_connection_and_carry_host_length_and_headers(serve) -> None:  # type: ignore[no-untyped-def]
    record: list[tuple[bytes, bytes]] = []
    server, origin = await serve(keep_alive(echo, record))
    pool = UpstreamPool(connect_timeout=2)
    try:
        for n in range(3):
            answer = await pool.request(origin, "POST", f"/his/records?n={n}", [(b"x-correlation-id", b"c1")], b"{}")
            assert (answer.status, b"".join(answer.body)) == (201, f"/his/records?n={n}|{{}}".encode())
            assert (b"x-twice", b"a") in answer.headers  # names lower-cased
        get = await pool.request(origin, "GET", "/units", [], b"")
        assert get.status == 201
    finally:
        await pool.aclose()
    assert server.connections == 1
    head, _ = record[0]
    assert b"host: " + origin.host_header in head and b"content-length: 2" in head and b"x-correlation-id: c1" in head
    assert b"content-length" not in record[3][0]  # a GET without a body says nothing of one


async def test_a_chunked_answer_is_read_whole(serve) -> None:  # type: ignore[no-untyped-def]
    def chunked(_head: bytes, _body: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

    _, origin = await serve(keep_alive(chunked, []))
    pool = UpstreamPool(connect_timeout=2)
    try:
        answer = await pool.request(origin, "GET", "/x", [], b"")
    finally:
        await pool.aclose()
    assert b"".join(answer.body) == b"hello world"


async def test_a_body_ended_by_close_is_read_and_the_connection_not_reused(serve) -> None:  # type: ignore[no-untyped-def]
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        await writer.drain()

    server, origin = await serve(until_close)
    pool = UpstreamPool(connect_timeout=2)
    try:
        for _ in range(2):
            answer = await pool.request(origin, "GET", "/x", [], b"")
            assert b"".join(answer.body) == b"all of it"
    finally:
        await pool.aclose()
    assert server.connections == 2


async def test_a_connection_the_service_closed_while_idle_is_not_used(serve) -> None:  # type: ignore[no-untyped-def]
    async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(echo(*await read_request(reader)))
        await writer.drain()  # then closes: the idle keep-alive expiring on the service's side

    server, origin = await serve(one_then_close)
    pool = UpstreamPool(connect_timeout=2)
    try:
        await pool.request(origin, "POST", "/a", [], b"1")
        await asyncio.sleep(0.05)  # the peer's close reaches the pooled stream
        answer = await pool.request(origin, "POST", "/b", [], b"2")
    finally:
        await pool.aclose()
    assert b"".join(answer.body) == b"/b|2"
    assert server.connections == 2


async def test_an_answer_cut_short_or_not_http_is_broken_and_not_pooled(serve) -> None:  # type: ignore[no-untyped-def]
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort")
        await writer.drain()

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    pool = UpstreamPool(connect_timeout=2)
    try:
        for handler in (cut, garbage):
            _, origin = await serve(handler)
            with pytest.raises(UpstreamBroken):
                await pool.request(origin, "GET", "/x", [], b"")
            assert not pool._idle.get(origin)
    finally:
        await pool.aclose()


async def test_nothing_listening_is_broken_and_https_is_not_this_clients() -> None:
    origin = Origin.of("http://127.0.0.1:1")
    assert origin is not None
    pool = UpstreamPool(connect_timeout=2)
    with pytest.raises(UpstreamBroken):
        await pool.request(origin, "GET", "/x", [], b"")
    assert Origin.of("https://registry:8000") is None


async def test_a_timeout_closes_the_connection_in_flight(serve) -> None:  # type: ignore[no-untyped-def]
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    server, origin = await serve(slow)
    pool = UpstreamPool(connect_timeout=2)
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await pool.request(origin, "GET", "/x", [], b"")
        assert not pool._idle.get(origin)
    finally:
        await pool.aclose()
    assert server.connections == 1
