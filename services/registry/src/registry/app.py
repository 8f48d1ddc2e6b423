"""`uvicorn --factory registry.app:create_app`"""

from fastapi import FastAPI

from registry.addresses import routes as addresses
from registry.bodies import routes as bodies
from registry.cadres import routes as cadres
from registry.cards import routes as cards
from registry.fhir import routes as fhir
from registry.imports import routes as imports
from registry.lifecycle import routes as lifecycle
from registry.proposals import routes as proposals
from registry.settings import RegistrySettings
from registry.tables import metadata
from registry.tiers import routes as tiers
from registry.transfers import routes as transfers
from registry.units import routes as units
from servicekit.app import create_service_app
from servicekit.fhir import install_fhir_errors
from servicekit.runtime import build_runtime


def create_app(settings: RegistrySettings | None = None, *, run_workers: bool = True) -> FastAPI:
    runtime = build_runtime(settings or RegistrySettings(), metadata)
    app = create_service_app(
        runtime,
        title="CadreCare registry",
        description="Cadres, management tiers, administrative units, transfers and health-care cards.",
        routers=[
            cadres.router,
            imports.router,
            lifecycle.router,
            transfers.router,
            cards.router,
            proposals.router,
            units.router,
            tiers.router,
            bodies.router,
            addresses.router,
            fhir.router,
        ],
        run_workers=run_workers,
    )
    install_fhir_errors(app)  # under /fhir/R4 errors are OperationOutcomes
    return app
