"""`uvicorn --factory registry.app:create_app`"""

from fastapi import FastAPI

from registry import routes, routes_units
from registry.settings import RegistrySettings
from registry.tables import metadata
from servicekit.app import create_service_app
from servicekit.runtime import build_runtime


def create_app(settings: RegistrySettings | None = None, *, run_workers: bool = True) -> FastAPI:
    runtime = build_runtime(settings or RegistrySettings(), metadata)
    return create_service_app(
        runtime,
        title="CadreCare registry",
        description="Cadres, management tiers, administrative units, transfers and health-care cards.",
        routers=[routes.router, routes_units.router],
        run_workers=run_workers,
    )
