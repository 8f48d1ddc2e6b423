"""Forwarding to the services: the caller's token is swapped for a short-lived signed internal token."""

import httpx
from fastapi import Request
from fastapi.responses import Response

from contracts.scope import Principal
from servicekit.auth import InternalTokenSigner
from servicekit.errors import DomainError, NotFound
from servicekit.logs import current_correlation_id

FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "accept-language", "idempotency-key")
FORWARDED_RESPONSE_HEADERS = ("content-type", "content-disposition", "location", "retry-after")


class UpstreamTimeout(DomainError):
    status_code = 504
    code = "upstream_timeout"


class UpstreamUnavailable(DomainError):
    status_code = 502
    code = "upstream_unavailable"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class Proxy:
    def __init__(self, upstreams: dict[str, str], signer: InternalTokenSigner, *, timeout: float, max_body_bytes: int) -> None:
        self.upstreams = upstreams
        self.signer = signer
        self.max_body_bytes = max_body_bytes
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=2.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
        )

    async def forward(self, service: str, path: str, request: Request, principal: Principal) -> Response:
        base = self.upstreams.get(service)
        if base is None:
            raise NotFound(f"no service {service!r}")
        body = await request.body()
        if len(body) > self.max_body_bytes:
            raise PayloadTooLarge(f"the body exceeds {self.max_body_bytes} bytes")
        correlation_id = current_correlation_id()
        headers = {name: value for name in FORWARDED_REQUEST_HEADERS if (value := request.headers.get(name)) is not None}
        headers["authorization"] = f"Bearer {self.signer.sign(principal, correlation_id)}"
        if correlation_id:
            headers["x-correlation-id"] = correlation_id
        try:
            upstream = await self.client.request(
                request.method, f"{base}/{path}", params=request.query_params, content=body, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"the {service} service did not answer in time") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"the {service} service is unreachable") from exc
        response_headers = {
            name: value for name in FORWARDED_RESPONSE_HEADERS if (value := upstream.headers.get(name)) is not None
        }
        return Response(upstream.content, status_code=upstream.status_code, headers=response_headers)

    async def close(self) -> None:
        await self.client.aclose()
