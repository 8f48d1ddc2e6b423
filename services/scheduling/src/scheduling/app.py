"""`uvicorn --factory scheduling.app:create_app`"""

from fastapi import FastAPI

from scheduling.clinic_days.routes import router as clinic_days
from scheduling.convalescence.routes import router as convalescence
from scheduling.coverage.routes import router as coverage
from scheduling.fhir.routes import router as fhir
from scheduling.follow_ups.routes import router as follow_ups
from scheduling.home_visits.routes import router as home_visits
from scheduling.invitations.routes import router as invitations
from scheduling.plans.routes import router as plans
from scheduling.projections import consumers
from scheduling.roster.routes import router as roster
from scheduling.rules.routes import router as rules
from scheduling.settings import SchedulingSettings
from scheduling.tables import metadata
from servicekit.app import create_service_app
from servicekit.fhir import install_fhir_errors
from servicekit.runtime import build_runtime


def create_app(settings: SchedulingSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    runtime = build_runtime(settings or SchedulingSettings(), metadata)
    app = create_service_app(
        runtime,
        title="CadreCare scheduling",
        description=(
            "Periodic exam plans, rounds, invitations, attendance and coverage; home visits, convalescence trips"
            ", expert-council clinic days, and the follow-ups clinical records ask for (re-exam appointments)."
        ),
        routers=[roster, rules, plans, invitations, coverage, home_visits, convalescence, clinic_days, follow_ups, fhir],
        consumers=consumers,
        run_workers=run_workers,
    )
    install_fhir_errors(app)  # under /fhir/R4 errors are OperationOutcomes
    return app
