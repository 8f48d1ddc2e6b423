"""`uvicorn --factory reporting.app:create_app`

Besides its API, the service serves the dashboard's static page at /dashboard/ without a token (it
holds no data: it signs in through the gateway and calls the API there with the caller's token).
"""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from reporting.approvals.routes import router as approvals
from reporting.board_reports.routes import router as board_reports
from reporting.dashboard.routes import PAGE_DIR
from reporting.dashboard.routes import router as dashboard
from reporting.projections import consumers
from reporting.rebuild.service import figures_counted_if_asked
from reporting.rollup.routes import router as rollup
from reporting.settings import ReportingSettings
from reporting.tables import metadata
from servicekit.app import create_service_app
from servicekit.runtime import build_runtime


def create_app(settings: ReportingSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    runtime = build_runtime(settings or ReportingSettings(), metadata)
    app = create_service_app(
        runtime,
        title="CadreCare reporting",
        description="Read models fed by events: counts, coverage, classifications, reports.",
        routers=[dashboard, approvals, board_reports, rollup],
        consumers=consumers,
        run_workers=run_workers,
        resources=lambda: figures_counted_if_asked(runtime.db),  # a rebuild stopped half-way left them to count
    )
    app.mount("/dashboard", StaticFiles(directory=PAGE_DIR, html=True), name="dashboard")
    return app
