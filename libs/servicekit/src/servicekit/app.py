"""The app factory every service uses: middleware, errors, health, metrics, and background workers."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.api.common import Health
from servicekit.consumer import EventConsumer
from servicekit.errors import install_error_handlers
from servicekit.idempotency import install_idempotency
from servicekit.logs import configure_logging, correlation_id_var, new_correlation_id
from servicekit.metrics import MetricsMiddleware, metrics_endpoint
from servicekit.outbox import OutboxRelay
from servicekit.runtime import Runtime

log = logging.getLogger(__name__)

CORRELATION_HEADER = "x-correlation-id"
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes would drown the access log
access_log = logging.getLogger("cadrecare.access")


class CorrelationMiddleware:
    """Takes the caller's correlation id (or makes one) for logs, events and the response header."""

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
            if scope["path"] not in QUIET_PATHS:
                fields = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                }
                access_log.info("%s %s %s", scope["method"], scope["path"], status, extra={"fields": fields})
            correlation_id_var.reset(token)


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


def health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
    async def readyz() -> object:
        checks: dict[str, str] = {}
        for name, probe in (("database", runtime.db.ping), ("broker", runtime.broker.ping)):
            try:
                await asyncio.wait_for(probe(), 2)
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                checks[name] = f"failed: {type(exc).__name__}"
        if all(v == "ok" for v in checks.values()):
            return Health(status="ready", checks=checks)
        return JSONResponse(Health(status="not_ready", checks=checks).model_dump(), status_code=503)

    router.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    return router


def create_service_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    consumers: Callable[[Runtime], Sequence[EventConsumer]] = lambda _runtime: (),
    run_workers: bool = True,
) -> FastAPI:
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers: list[tuple[str, Coroutine[Any, Any, None]]] = []
        if run_workers:
            relay = OutboxRelay(
                runtime.db,
                runtime.outbox,
                runtime.broker,
                poll_seconds=settings.relay_poll_seconds,
                retention=timedelta(days=settings.outbox_retention_days),
            )
            workers.append(("outbox-relay", relay.run()))
            workers += [(f"consumer-{consumer.name}", consumer.run()) for consumer in consumers(runtime)]
        log.info("%s started", settings.service_name)
        try:
            async with background_tasks(workers):
                yield
        finally:
            await runtime.broker.close()
            await runtime.db.dispose()

    app = FastAPI(title=title, description=description, version="1", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.verifier = runtime.verifier
    install_error_handlers(app)
    install_idempotency(app)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(CorrelationMiddleware)
    app.include_router(health_router(runtime))
    for router in routers:
        app.include_router(router)
    return app
