"""The convalescence trips' routes."""

import uuid

from fastapi import Response, status

from contracts.api.care import (
    Cancellation,
    ConvalescenceRegistrationCreate,
    ConvalescenceRegistrationPublic,
    ConvalescenceRuleCreate,
    ConvalescenceRulePublic,
    ConvalescenceTripCreate,
    ConvalescenceTripPublic,
    EligibleCadre,
)
from contracts.api.common import Page
from scheduling.access import Reader, Writer
from scheduling.convalescence import registrations, service
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import PageDep, YearFilter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["scheduling: recurring care"])


@router.post("/convalescence/rules", status_code=status.HTTP_201_CREATED, response_model=ConvalescenceRulePublic)
async def create_convalescence_rule(
    body: ConvalescenceRuleCreate, caller: Writer, session: SessionDep
) -> ConvalescenceRulePublic:
    """A new version of who may go and how often (trips keep the version in force when they were made)."""
    return await service.create_rule(session, caller, body)


@router.get("/convalescence/rules", response_model=list[ConvalescenceRulePublic])
async def list_convalescence_rules(
    caller: Reader, session: SessionDep, board_unit: str | None = None
) -> list[ConvalescenceRulePublic]:
    return await service.list_rules(session, caller, board_unit)


@router.post("/convalescence/trips", status_code=status.HTTP_201_CREATED, response_model=ConvalescenceTripPublic)
async def create_convalescence_trip(
    body: ConvalescenceTripCreate, caller: Writer, session: SessionDep, runtime: RuntimeDep
) -> ConvalescenceTripPublic:
    return await service.create_trip(session, runtime.outbox, caller, body)


@router.get("/convalescence/trips", response_model=list[ConvalescenceTripPublic])
async def list_convalescence_trips(
    caller: Reader, session: SessionDep, board_unit: str | None = None, year: YearFilter = None
) -> list[ConvalescenceTripPublic]:
    return await service.list_trips(session, caller, board_unit, year)


@router.get("/convalescence/trips/{trip_id}", response_model=ConvalescenceTripPublic)
async def get_convalescence_trip(trip_id: uuid.UUID, caller: Reader, session: SessionDep) -> ConvalescenceTripPublic:
    """The trip with its figures: "6 of 14 registered"."""
    return await service.trip_public(session, await service.trip_in_scope(session, caller, trip_id))


@router.post(
    "/convalescence/trips/{trip_id}/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=ConvalescenceRegistrationPublic,
)
async def register_for_convalescence(
    trip_id: uuid.UUID,
    body: ConvalescenceRegistrationCreate,
    caller: Writer,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> ConvalescenceRegistrationPublic:
    """Refused with the reason: not_eligible, already_within_period, quota_full (or 409 already_registered)."""
    registered = await registrations.register(session, runtime.outbox, caller, trip_id, body)
    audit_subjects(response, [registered.cadre_id])
    return registered


@router.get("/convalescence/trips/{trip_id}/registrations", response_model=list[ConvalescenceRegistrationPublic])
async def list_convalescence_registrations(
    trip_id: uuid.UUID, caller: Reader, session: SessionDep, response: Response, include_cancelled: bool = False
) -> list[ConvalescenceRegistrationPublic]:
    items = await registrations.list_registrations(session, caller, trip_id, include_cancelled)
    audit_subjects(response, (i.cadre_id for i in items))
    return items


@router.get("/convalescence/trips/{trip_id}/eligible", response_model=Page[EligibleCadre])
async def eligible_for_convalescence(
    trip_id: uuid.UUID, caller: Reader, session: SessionDep, response: Response, page: PageDep
) -> Page[EligibleCadre]:
    """Eligible cadres not yet registered for this trip (and not gone on another within the period)."""
    found = await registrations.eligible_not_yet_registered(session, caller, trip_id, page)
    audit_subjects(response, (i.cadre_id for i in found.items))
    return found


@router.post("/convalescence/registrations/{registration_id}/cancel", response_model=ConvalescenceRegistrationPublic)
async def cancel_convalescence_registration(
    registration_id: uuid.UUID,
    body: Cancellation,
    caller: Writer,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> ConvalescenceRegistrationPublic:
    cancelled = await registrations.cancel_registration(session, runtime.outbox, caller, registration_id, body.reason)
    audit_subjects(response, [cancelled.cadre_id])
    return cancelled
