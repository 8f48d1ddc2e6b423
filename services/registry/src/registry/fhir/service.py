"""Patient use cases: read, search, and registration through the registry's own use case (conditional on
the CCCD), each in the request's unit of work."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.scope import Principal
from registry.access import readable_cadre
from registry.cadres.service import register_cadre
from registry.fhir import queries
from registry.fhir.domain import ELEMENT_OF_FIELD, if_none_exist_cccd, patient_of, registration_of
from registry.mappers import cadre_public
from registry.rules import Rules
from servicekit.errors import Conflict, Refused
from servicekit.fhir import FhirError, Issue, validate
from servicekit.fhir_search import DateSearch, Token
from servicekit.outbox import Outbox
from servicekit.pagination import PageParams


@dataclass(frozen=True)
class PatientSearch:
    identifiers: Sequence[Token] = ()
    ids: Sequence[str] = ()
    updated: Sequence[DateSearch] = ()


@dataclass(frozen=True)
class Found:
    patients: list[dict[str, Any]]
    total: int
    cadre_ids: list[uuid.UUID]


async def read_patient(session: AsyncSession, principal: Principal, patient_id: str) -> dict[str, Any]:
    try:
        cadre_id = uuid.UUID(patient_id)
    except ValueError:
        raise FhirError(404, "not-found", f"no Patient {patient_id!r}") from None
    return patient_of(cadre_public(await readable_cadre(session, principal, cadre_id)))


async def search_patients(session: AsyncSession, principal: Principal, search: PatientSearch, page: PageParams) -> Found:
    numbers = [t.code for t in search.identifiers if queries.needs_card(t)]
    holders: dict[str, list[uuid.UUID]] = {}
    for number, cadre_id in (await session.execute(queries.card_holders(numbers))).all() if numbers else []:
        holders.setdefault(number, []).append(cadre_id)
    where = queries.conditions(principal, search.identifiers, search.ids, search.updated, holders)
    total = await session.scalar(queries.count_of(where)) or 0
    cadres = list(await session.scalars(queries.page_of(where, page.offset, page.limit))) if page.limit else []
    return Found([patient_of(cadre_public(c)) for c in cadres], total, [c.id for c in cadres])


async def _existing(session: AsyncSession, principal: Principal, national_id: str) -> dict[str, Any] | None:
    found = await session.scalar(queries.in_scope_with_national_id(principal, national_id))
    return patient_of(cadre_public(found)) if found is not None else None


def _as_outcome(refused: Refused) -> FhirError:
    """The registration's own refusals (a CCCD that does not fit the birth date, an unknown unit) named by element."""
    issues = []
    for error in refused.errors:
        field = str(error.loc[-1]) if error.loc else ""
        element = ELEMENT_OF_FIELD.get(field, "Patient")
        issues.append(Issue("business-rule", f"{element} ({field}): {error.msg}", (element,)))
    return FhirError(422, "business-rule", refused.detail, issues=issues or [Issue("business-rule", refused.detail)])


async def create_patient(
    session: AsyncSession, outbox: Outbox, principal: Principal, body: Any, rules: Rules, if_none_exist: str | None
) -> tuple[dict[str, Any], bool]:
    """(the Patient, True if registered now); with If-None-Exist, the cadre already in scope is answered instead.

    The CCCD is unique in the registry's table: two requests racing past the look-up meet there (or the loser's
    own duplicate check sees the winner's row), and the loser answers with the winner's record (its savepoint
    rolled back, nothing of it kept)."""
    validate("Patient", body)
    registration = registration_of(body)
    wanted = if_none_exist_cccd(if_none_exist) if if_none_exist is not None else None
    if wanted is not None and (existing := await _existing(session, principal, wanted)) is not None:
        return existing, False
    try:
        async with session.begin_nested():
            created = await register_cadre(session, outbox, principal, registration, rules)
    except Refused as refused:
        raise _as_outcome(refused) from None
    except IntegrityError:
        existing = await _existing(session, principal, wanted) if wanted is not None else None
        if existing is None:
            raise FhirError(409, "duplicate", "a cadre with this CCCD is already registered", "Patient.identifier") from None
        return existing, False
    except Conflict:  # the winner committed between our look-up and register_cadre's own duplicate check
        if wanted is None or (existing := await _existing(session, principal, wanted)) is None:
            raise
        return existing, False
    return patient_of(created), True
