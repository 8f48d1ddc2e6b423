"""`uvicorn --factory scheduling.app:create_app`"""

from fastapi import FastAPI

from scheduling.care_routes import router as care_router
from scheduling.projections import consumers
from scheduling.routes import router
from scheduling.settings import SchedulingSettings
from scheduling.tables import metadata
from servicekit.app import create_service_app
from servicekit.runtime import build_runtime


def create_app(settings: SchedulingSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    runtime = build_runtime(settings or SchedulingSettings(), metadata)
    return create_service_app(
        runtime,
        title="CadreCare scheduling",
        description=(
            "Periodic exam plans, rounds, invitations, attendance and coverage; home visits, convalescence trips"
            " and expert-council clinic days."
        ),
        routers=[router, care_router],
        consumers=consumers,
        run_workers=run_workers,
    )
