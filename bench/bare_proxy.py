"""The least a Python proxy of this stack does: uvicorn (one worker, httptools) and the gateway's own upstream
pool (`gateway.forwarding.upstream`), forwarding `/api/v1/registry/<path>` with the headers the gateway passes
each way, and nothing else: no authentication, grants, policy, internal token, audit, access log or FastAPI.

`bench gateway` measures it beside the gateway and nginx, in the same interleaved rounds: its CPU per request is
the floor of proxying in Python on this machine, and the gateway's figure above it is what the gateway's own
work costs (issue 14, item 3). Started with BARE_PROXY_UPSTREAM=http://host:port (the registry).
"""

import os
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any

from gateway.forwarding.proxy import FORWARDED_REQUEST_HEADERS, FORWARDED_RESPONSE_HEADERS
from gateway.forwarding.upstream import Origin, UpstreamPool

PREFIX = "/api/v1/registry"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# the headers the gateway passes each way (the caller's token goes through as it is: nothing checks it here)
_REQUEST_HEADERS = frozenset(name.encode("latin-1") for name in (*FORWARDED_REQUEST_HEADERS, "authorization"))
_RESPONSE_HEADERS = frozenset(name.encode("latin-1") for name in FORWARDED_RESPONSE_HEADERS)


def create_app() -> Callable[[Scope, Receive, Send], Coroutine[Any, Any, None]]:
    origin = Origin.of(os.environ["BARE_PROXY_UPSTREAM"])
    assert origin is not None, "BARE_PROXY_UPSTREAM must be an http:// URL"
    pool = UpstreamPool(connect_timeout=2.0)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await pool.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path: str = scope["path"]
        target = path.removeprefix(PREFIX) or "/"
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [(name, value) for name, value in scope["headers"] if name in _REQUEST_HEADERS]
        answer = await pool.request(origin, scope["method"], target, headers, body)
        content = b"".join(answer.body)
        kept = [(name, value) for name, value in answer.headers if name in _RESPONSE_HEADERS]
        kept.append((b"content-length", b"%d" % len(content)))  # as the gateway's response sets it
        await send({"type": "http.response.start", "status": answer.status, "headers": kept})
        await send({"type": "http.response.body", "body": content})

    return app
