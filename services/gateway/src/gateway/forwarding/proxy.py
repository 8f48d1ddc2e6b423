"""The HTTP client side of forwarding: one pooled connection set to the services (gateway.forwarding.upstream),
the caller's token swapped for a short-lived signed internal token (re-used for a few seconds per principal),
upstream timeouts answered with 504."""

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from cachetools import LRUCache, TTLCache

from contracts.scope import Principal
from gateway.forwarding.upstream import Origin, UpstreamBroken, UpstreamPool
from servicekit.auth import InternalTokenSigner
from servicekit.errors import DomainError, NotFound

# if-none-exist and prefer: FHIR's conditional create and return preference; content-location and
# last-modified: what FHIR answers carry besides location and etag
FORWARDED_REQUEST_HEADERS = (
    "content-type",
    "accept",
    "accept-language",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "if-none-exist",
    "prefer",
)
FORWARDED_RESPONSE_HEADERS = (
    "content-type",
    "content-disposition",
    "location",
    "retry-after",
    "etag",
    "cache-control",
    "content-location",
    "last-modified",
)


class UpstreamTimeout(DomainError):
    status_code = 504
    code = "upstream_timeout"


class UpstreamUnavailable(DomainError):
    status_code = 502
    code = "upstream_unavailable"


@dataclass(frozen=True)
class UpstreamAnswer:
    status_code: int
    content: bytes
    headers: dict[str, str]  # lower-case names


class Proxy:
    def __init__(
        self,
        upstreams: dict[str, str],
        signer: InternalTokenSigner,
        *,
        timeout: float,
        token_cache_seconds: float = 20.0,
        mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.upstreams = upstreams
        self.signer = signer
        self.timeout = timeout
        # a cached token must keep well over half of its life when used
        self.token_cache_seconds = min(token_cache_seconds, signer.ttl.total_seconds() / 2)
        self._tokens: TTLCache[Principal, tuple[str, float]] = TTLCache(maxsize=10_000, ttl=self.token_cache_seconds)
        # the last token of each subject, found by the principal's identity (gateway.context.Gateway.with_grants)
        self._last: LRUCache[str, tuple[Principal, str, float]] = LRUCache(maxsize=10_000)
        # httpx for the occasional calls (readiness, API documents), for in-process services (tests) and any
        # upstream that is not plain http://; forwarding over the network goes through the gateway's own pool
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=2.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=30),
            mounts=dict(mounts or {}),
        )
        self.pool = None if mounts else UpstreamPool(connect_timeout=2.0)
        self._origins = {} if mounts else {base: origin for base in upstreams.values() if (origin := Origin.of(base))}

    def internal_token(self, principal: Principal) -> str:
        """A token signed for this principal at most `token_cache_seconds` ago, or a new one."""
        now = time.monotonic()
        last = self._last.get(principal.subject)
        if last is not None and last[0] is principal and now < last[2]:
            return last[1]
        signed = self._tokens.get(principal)
        if signed is None or now >= signed[1]:
            signed = self._tokens[principal] = (self.signer.sign(principal), now + self.token_cache_seconds)
        self._last[principal.subject] = (principal, *signed)
        return signed[0]

    def base_of(self, service: str) -> str:
        base = self.upstreams.get(service)
        if base is None:
            raise NotFound(f"no service {service!r}")
        return base

    async def send(
        self,
        service: str,
        method: str,
        path: str,
        *,
        principal: Principal,
        query: str,
        content: bytes,
        headers: dict[str, str],
        correlation_id: str | None,
    ) -> UpstreamAnswer:
        base = self.base_of(service)
        headers = {**headers, "authorization": f"Bearer {self.internal_token(principal)}"}
        if correlation_id:
            headers["x-correlation-id"] = correlation_id
        target = f"/{path}?{query}" if query else f"/{path}"
        return await self._request(service, method, base, target, headers, content)

    async def fetch_public(self, service: str, path: str, headers: dict[str, str]) -> UpstreamAnswer:
        """A GET with no token at all: only for the public static files (see gateway.forwarding.public)."""
        return await self._request(service, "GET", self.base_of(service), f"/{path}", headers, b"")

    async def _request(
        self, service: str, method: str, base: str, target: str, headers: dict[str, str], content: bytes
    ) -> UpstreamAnswer:
        origin = self._origins.get(base)
        try:
            async with asyncio.timeout(self.timeout):
                if self.pool is None or origin is None:
                    upstream = await self.client.request(method, base + target, content=content, headers=headers)
                    return UpstreamAnswer(upstream.status_code, upstream.content, dict(upstream.headers))
                # latin-1 both ways, as the headers were received: the bytes the client sent
                raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
                answer = await self.pool.request(origin, method, target, raw, content)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise UpstreamTimeout(f"the {service} service did not answer in time") from exc
        except (httpx.TransportError, UpstreamBroken) as exc:
            raise UpstreamUnavailable(f"the {service} service is unreachable") from exc
        names = {name.decode("latin-1"): value.decode("latin-1") for name, value in answer.headers}
        return UpstreamAnswer(answer.status, b"".join(answer.body), names)

    async def close(self) -> None:
        await self.client.aclose()
        if self.pool is not None:
            await self.pool.aclose()
