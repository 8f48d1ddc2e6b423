"""Prometheus metrics shared by every service, and how an answered request is recorded (servicekit.app times it)."""

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

HTTP_REQUESTS = Histogram(
    "cadrecare_http_request_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PUBLISHED = Counter("cadrecare_outbox_published_total", "Outbox rows published to the broker")
OUTBOX_RELAY_FAILURES = Counter("cadrecare_outbox_relay_failures_total", "Relay attempts that failed and will retry")
EVENTS_CONSUMED = Counter("cadrecare_events_consumed_total", "Events handled by a consumer", ["consumer", "outcome"])


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    """One answered request, under its route's template (set by the router once it matched), for the
    histogram; called by servicekit.app.CorrelationMiddleware, which times every request anyway."""
    path = getattr(scope.get("route"), "path", "unmatched")
    HTTP_REQUESTS.labels(scope["method"], path, str(status)).observe(seconds)


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
