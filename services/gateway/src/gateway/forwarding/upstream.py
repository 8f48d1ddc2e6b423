"""The gateway's own keep-alive HTTP/1.1 client to the services (plain http:// only), on asyncio streams with
httptools (uvicorn's parser, C) reading the answers.

Why not httpcore's pool: on every request it walked each pooled connection and polled its socket for
readability (a select() per connection per request: 14% of the gateway's CPU under load with 32 connections).
Here a connection the service closed is known for free: asyncio reads every socket it holds, so a peer's
close has already marked the stream at EOF when the connection is taken from the pool. A connection idle
longer than `idle_seconds` (below the services' keep-alive of 75 s) is not reused, so the service never
closes one under a request in flight; a failure is never retried (a POST might have been applied).
"""

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools

Headers = list[tuple[bytes, bytes]]


class UpstreamBroken(Exception):
    """The connection failed or the answer was not HTTP: the gateway answers 502."""


@dataclass(frozen=True)
class Origin:
    host: str
    port: int
    host_header: bytes

    @classmethod
    def of(cls, base: str) -> "Origin | None":
        """The origin of an http:// base URL; None for anything this client does not speak (https)."""
        parts = urlsplit(base)
        if parts.scheme != "http" or not parts.hostname:
            return None
        return cls(parts.hostname, parts.port or 80, parts.netloc.encode("ascii"))


@dataclass
class Answer:
    """httptools' callbacks fill it in as the bytes arrive."""

    status: int = 0
    headers: Headers = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)
    headers_done: bool = False
    complete: bool = False
    keep_alive: bool = False
    parser: "httptools.HttpResponseParser | None" = None

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        assert self.parser is not None
        self.keep_alive = self.parser.should_keep_alive()  # llhttp forgets it once the message is complete

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True

    def length_unknown(self) -> bool:
        """Neither Content-Length nor chunked: the body lasts until the service closes the connection."""
        names = {name for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def reusable(self, now: float, idle_seconds: float) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing() and now - self.idle_since < idle_seconds

    def close(self) -> None:
        self.writer.close()


class UpstreamPool:
    """Idle connections per origin; at most `max_connections` requests in flight over all origins."""

    def __init__(self, *, connect_timeout: float, idle_seconds: float = 30.0, max_connections: int = 200) -> None:
        self.connect_timeout = connect_timeout
        self.idle_seconds = idle_seconds
        self._idle: dict[Origin, deque[Connection]] = {}
        self._slots = asyncio.Semaphore(max_connections)

    async def request(self, origin: Origin, method: str, target: str, headers: Headers, content: bytes) -> Answer:
        """One request; UpstreamBroken if the connection fails. Cancelling it (a timeout) closes its connection."""
        async with self._slots:
            connection = await self._take(origin)
            try:
                answer = await self._exchange(connection, origin, method, target, headers, content)
            except BaseException:
                connection.close()
                raise
        return answer

    async def _take(self, origin: Origin) -> Connection:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()  # the most recently used: the likeliest to be alive
            if connection.reusable(now, self.idle_seconds):
                return connection
            connection.close()
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(origin.host, origin.port)
        except (OSError, TimeoutError) as exc:
            raise UpstreamBroken(f"cannot connect to {origin.host}:{origin.port}: {exc!r}") from exc
        return Connection(reader, writer)

    async def _exchange(
        self, connection: Connection, origin: Origin, method: str, target: str, headers: Headers, content: bytes
    ) -> Answer:
        head = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1"), b"host: ", origin.host_header, b"\r\n"]
        for name, value in headers:
            head += (name, b": ", value, b"\r\n")
        if content or method not in ("GET", "DELETE"):
            head.append(b"content-length: %d\r\n" % len(content))
        head.append(b"\r\n")
        answer = Answer()
        answer.parser = parser = httptools.HttpResponseParser(answer)
        try:
            connection.writer.write(b"".join(head) + content)
            await connection.writer.drain()
            while not answer.complete:
                data = await connection.reader.read(65536)
                if not data:
                    if answer.headers_done and answer.length_unknown():
                        break  # the service closed the connection to end the body
                    raise UpstreamBroken("the service closed the connection before its answer was complete")
                parser.feed_data(data)
        except (OSError, httptools.HttpParserError) as exc:
            raise UpstreamBroken(f"the exchange failed: {exc!r}") from exc
        answer.status, answer.parser = parser.get_status_code(), None
        if answer.keep_alive and answer.complete:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(origin, deque()).append(connection)
        else:
            connection.close()
        return answer

    async def aclose(self) -> None:
        for idle in self._idle.values():
            while idle:
                connection = idle.pop()
                connection.close()
                with contextlib.suppress(OSError):
                    await connection.writer.wait_closed()
        self._idle.clear()
