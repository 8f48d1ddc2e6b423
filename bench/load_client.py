"""A lean HTTP/1.1 load generator: keep-alive connections written and read with asyncio streams.

The load runs on the same two cores as the stack it measures. httpx's AsyncClient spent 3.4-3.9 ms of CPU per
single POST (bench clinical), as much as half the stack's own, so the rate the stack reached was bounded by its
caller. This client sends a prepared request and reads the status line, the headers it needs and the body:
0.10-0.18 ms of CPU per request in bench clinical, the JSON body's encoding included. It speaks only what
the benches need (one request at a time per connection, Content-Length or chunked bodies); anything else is
an error it raises.
"""

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit


class ProtocolError(Exception):
    """An answer this client does not understand, or a connection closed mid-answer."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class Connection:
    """One keep-alive connection to `base_url`; `post` sends a request and waits for its answer."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        fixed = {"host": f"{self.host}:{self.port}", "content-type": "application/json", **headers}
        self.header_block = "".join(f"{name}: {value}\r\n" for name, value in fixed.items()).encode("latin-1")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, timeout: float = 30.0) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = b"POST %s HTTP/1.1\r\n%scontent-length: %d\r\n\r\n" % (path.encode(), self.header_block, len(body))
        self.writer.write(head + body)
        try:
            return await asyncio.wait_for(self._answer(), timeout)
        except BaseException:
            await self.close()  # a half-read answer leaves the stream unusable
            raise

    async def _answer(self) -> Answer:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunks()
        else:
            raise ProtocolError(f"an answer without a length: {lines[0]}")
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, body)

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";", 1)[0], 16):
            parts.append(await self.reader.readexactly(size + 2))
        await self.reader.readuntil(b"\r\n")  # no trailers are sent to us
        return b"".join(part[:-2] for part in parts)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer, self.reader = None, None
