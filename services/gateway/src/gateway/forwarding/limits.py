"""Limits in front of the services: request body size, page and batch caps, per-principal rate limits."""

import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.api.common import FieldError
from contracts.fhir import FHIR_BASE_PATH
from servicekit.errors import DomainError, Refused, field_error, problem_response
from servicekit.fhir import Issue, outcome_response
from servicekit.pagination import MAX_PAGE_SIZE

PAGE_PARAMETERS = ("limit", "page_size", "size")  # query parameters that size a page, whatever a service calls it
# A page or batch over the cap is what the service's own schema refuses (le=, max_length=): the same code,
# `invalid_request` (docs/his-integration.md), whether the gateway or the service says it.
SCHEMA_MISMATCH = "invalid_request"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class TooManyRequests(DomainError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = max(1, math.ceil(retry_after))


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """0 if a token was taken, else how many seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimiter:
    """One token bucket per key (a principal, or a client address), the least recently used forgotten first."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        self.max_keys = max_keys
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def check(self, key: str) -> None:
        if self.rate <= 0:
            return
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.rate, self.burst, self.burst, now)
            self.buckets[key] = bucket
            if len(self.buckets) > self.max_keys:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(key)
        wait = bucket.take(now)
        if wait > 0:
            raise TooManyRequests("too many requests: slow down", retry_after=wait)


class BodyLimitMiddleware:
    """Refuses a body larger than the limit with 413: by its Content-Length before reading it, and by
    counting the bytes of a streamed (chunked) body."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        too_large = f"the request body exceeds {self.max_body_bytes} bytes"
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            path: str = scope.get("path", "")
            if path == FHIR_BASE_PATH or path.startswith(FHIR_BASE_PATH + "/"):  # FHIR's clients read an OperationOutcome
                await outcome_response(413, [Issue("too-costly", too_large)])(scope, receive, send)
                return
            await problem_response(413, PayloadTooLarge.code, too_large)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise PayloadTooLarge(too_large)
            return message

        await self.app(scope, counting_receive, send)


def check_page_size(query: dict[str, str]) -> None:
    """The services' own cap (servicekit.pagination), enforced before forwarding."""
    errors: list[FieldError] = []
    for name in PAGE_PARAMETERS:
        value = query.get(name)
        if value is not None and value.isdigit() and int(value) > MAX_PAGE_SIZE:
            errors.append(field_error(["query", name], f"at most {MAX_PAGE_SIZE} items per page", "less_than_equal"))
    if errors:
        raise Refused("the page is too large", errors=errors, code=SCHEMA_MISMATCH)


def check_batch_size(body: bytes, content_type: str | None, maximum: int) -> None:
    """A JSON body that is a list, or an object holding a list, may carry at most `maximum` items."""
    if not body or not (content_type or "").startswith("application/json"):
        return
    stripped = body.lstrip()
    if stripped[:1] not in (b"[", b"{"):
        return
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return  # the service answers a malformed (or absurdly nested) body itself, with a 4xx
    too_many = f"at most {maximum} items in one request"
    if isinstance(document, list) and len(document) > maximum:
        raise Refused("the batch is too large", errors=[field_error("body", too_many, "too_long")], code=SCHEMA_MISMATCH)
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(value, list) and len(value) > maximum:
                errors = [field_error(["body", key], too_many, "too_long")]
                raise Refused("the batch is too large", errors=errors, code=SCHEMA_MISMATCH)
