"""The app factory every service uses: middleware, errors, health, metrics, and background workers.

The gateway uses it too, through the optional arguments (its own middleware, readiness checks,
start-up and shut-down, housekeeping workers, merged API documents); the services need none of them.
"""

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.api.common import Health
from servicekit.consumer import EventConsumer
from servicekit.docs import serve_docs
from servicekit.errors import install_error_handlers
from servicekit.idempotency import OwnerOf, install_idempotency, internal_caller
from servicekit.logs import access_lines, configure_logging, correlation_id_var, new_correlation_id
from servicekit.metrics import metrics_endpoint, observe_request
from servicekit.outbox import OutboxRelay, relay_poll_seconds
from servicekit.runtime import Runtime, SettingsT
from servicekit.timeouts import within

log = logging.getLogger(__name__)

CORRELATION_HEADER = "x-correlation-id"
GC_YOUNGEST_THRESHOLD = 10_000  # Python's default is 700 allocations
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes would drown the access log

ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Answers None when ready, else why not; an exception (or 2 s without an answer) also means not ready."""
Worker = tuple[str, Callable[[], Coroutine[Any, Any, None]]]
"""A named background task, started only when the app runs its workers."""


class CorrelationMiddleware:
    """Takes the caller's correlation id (or makes one) for logs, events and the response header; writes the
    access log line and times the request for the metrics (servicekit.metrics) in the same pass: one layer
    fewer for every request than a metrics middleware of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(CORRELATION_HEADER.encode())
        correlation_id = incoming.decode()[:64] if incoming else new_correlation_id()
        token = correlation_id_var.set(correlation_id)
        started = time.perf_counter()
        status = 500

        async def send_with_header(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((CORRELATION_HEADER.encode(), correlation_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            seconds = time.perf_counter() - started
            observe_request(scope, status, seconds)
            if scope["path"] not in QUIET_PATHS:
                access_lines.request(scope["method"], scope["path"], status, seconds)
            correlation_id_var.reset(token)


def settle_garbage_collector() -> None:
    """What the service holds once started (modules, routes, models, caches) moves out of the collector's
    sight, and the youngest generation is collected less often: each full collection otherwise walks every
    object of a started service again, a pause in whichever request allocated at that moment. Once per
    process: a process that starts many apps (the tests) would otherwise keep their garbage forever."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(GC_YOUNGEST_THRESHOLD, second, third)


@asynccontextmanager
async def background_tasks(coroutines: Iterable[tuple[str, Coroutine[Any, Any, None]]]) -> AsyncIterator[None]:
    """Run named coroutines (relay, consumers, housekeeping) for as long as the block lasts, then cancel them."""
    tasks = [asyncio.create_task(coroutine, name=name) for name, coroutine in coroutines]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def default_checks(runtime: Runtime[Any]) -> dict[str, ReadinessCheck]:
    async def database() -> None:
        await runtime.db.ping()

    async def broker() -> None:
        await runtime.broker.ping()

    return {"database": database, "broker": broker}


def health_router(runtime: Runtime[Any], checks: Mapping[str, ReadinessCheck] | None = None) -> APIRouter:
    router = APIRouter(tags=["health"])
    probes = default_checks(runtime) if checks is None else checks

    @router.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
    async def readyz() -> object:
        results: dict[str, str] = {}
        for name, probe in probes.items():
            try:
                trouble: str | None = await within(2, probe())
                results[name] = trouble or "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                results[name] = f"failed: {type(exc).__name__}"
        if all(v == "ok" for v in results.values()):
            return Health(status="ready", checks=results)
        return JSONResponse(Health(status="not_ready", checks=results).model_dump(), status_code=503)

    router.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    return router


def create_service_app(
    runtime: Runtime[SettingsT],
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    consumers: Callable[[Runtime[SettingsT]], Sequence[EventConsumer]] = lambda _runtime: (),
    run_workers: bool = True,
    publishes_events: bool = True,
    housekeeping: Sequence[Worker] = (),
    resources: Callable[[], AbstractAsyncContextManager[None]] = nullcontext,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    inner_middleware: Sequence[Middleware] = (),
    outer_middleware: Sequence[Middleware] = (),
    idempotency_owner: OwnerOf = internal_caller,
    serves_own_docs: bool = True,
) -> FastAPI:
    """A service's app. The optional arguments, for the gateway:

    - publishes_events: False when nothing is ever written to the outbox (no relay runs);
    - housekeeping: periodic tasks run beside the relay and the consumers;
    - resources: entered before the workers start, left after they stop (before the database closes);
    - readiness: what /readyz checks instead of the database and the broker;
    - inner_middleware: between the kit's metrics and the routes (first listed is outermost);
      outer_middleware: in front of the kit's correlation id (e.g. CORS answering preflights);
    - idempotency_owner: whose Idempotency-Key a request carries;
    - serves_own_docs: False leaves /openapi.json, /docs and /redoc to the app's own (servicekit.docs.serve_docs).
    """
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log_level, settings.log_json)

    def background_workers() -> list[tuple[str, Coroutine[Any, Any, None]]]:
        if not run_workers:
            return []
        workers: list[tuple[str, Coroutine[Any, Any, None]]] = []
        if publishes_events:
            relay = OutboxRelay(
                runtime.db,
                runtime.outbox,
                runtime.broker,
                poll_seconds=settings.relay_poll_seconds or relay_poll_seconds(runtime.db.url),
                retention=timedelta(days=settings.outbox_retention_days),
            )
            workers.append(("outbox-relay", relay.run()))
        workers += [(f"consumer-{consumer.name}", consumer.run()) for consumer in consumers(runtime)]
        return workers + [(name, work()) for name, work in housekeeping]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with resources():
                settle_garbage_collector()
                log.info("%s started", settings.service_name)
                async with background_tasks(background_workers()):
                    yield
        finally:
            access_lines.flush()
            await runtime.broker.close()
            await runtime.db.dispose()

    documents: dict[str, Any] = {"docs_url": None, "redoc_url": None}  # servicekit.docs serves them, offline
    if not serves_own_docs:
        documents["openapi_url"] = None
    # FastAPI's own OpenTelemetry hooks are off: the platform's metrics and logs are its own (above), and
    # checking for a configured provider cost every request three look-ups
    telemetry: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
    app = FastAPI(title=title, description=description, version="1", lifespan=lifespan, telemetry=telemetry, **documents)
    if serves_own_docs:
        serve_docs(app, "/openapi.json", title)
    app.state.runtime = runtime
    app.state.verifier = runtime.verifier
    install_error_handlers(app)
    install_idempotency(app, owner_of=idempotency_owner)
    for inner in reversed(inner_middleware):
        app.add_middleware(inner.cls, *inner.args, **inner.kwargs)
    app.add_middleware(CorrelationMiddleware)
    for outer in reversed(outer_middleware):
        app.add_middleware(outer.cls, *outer.args, **outer.kwargs)
    app.include_router(health_router(runtime, readiness))
    for router in routers:
        app.include_router(router)
    return app
