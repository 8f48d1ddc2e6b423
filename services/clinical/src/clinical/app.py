"""`uvicorn --factory clinical.app:create_app`"""

from fastapi import FastAPI

from clinical.conditions import routes as conditions
from clinical.fhir import routes as fhir
from clinical.ingestion import routes as ingestion
from clinical.projections import consumers
from clinical.records import routes as records
from clinical.settings import ClinicalSettings
from clinical.tables import metadata
from clinical.timeline import routes as timeline
from clinical.xml130 import routes as xml130
from servicekit.app import create_service_app
from servicekit.fhir import install_fhir_errors
from servicekit.runtime import build_runtime


def create_app(settings: ClinicalSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    settings = settings or ClinicalSettings()
    runtime = build_runtime(settings, metadata)
    app = create_service_app(
        runtime,
        title="CadreCare clinical",
        description="Exam results, visits, admissions, referrals; hospital (HIS) ingestion.",
        routers=[ingestion.router, xml130.router, records.router, timeline.router, conditions.router, fhir.router],
        consumers=consumers,
        run_workers=run_workers,
    )
    install_fhir_errors(app)  # under /fhir/R4 every error is an OperationOutcome
    return app
