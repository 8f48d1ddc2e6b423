"""`uvicorn --factory reporting.app:create_app`"""

from fastapi import FastAPI

from reporting.projections import consumers
from reporting.routes import router
from reporting.settings import ReportingSettings
from reporting.tables import metadata
from servicekit.app import create_service_app
from servicekit.runtime import build_runtime


def create_app(settings: ReportingSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    runtime = build_runtime(settings or ReportingSettings(), metadata)
    return create_service_app(
        runtime,
        title="CadreCare reporting",
        description="Read models fed by events: counts, coverage, classifications, reports.",
        routers=[router],
        consumers=consumers,
        run_workers=run_workers,
    )
