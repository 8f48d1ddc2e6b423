"""FHIR Organization: the facilities registry (clinical.tables.Facility) over the facilities known from records.

A facility is named by its code (`Organization.id` = the code = the identifier under SID_FACILITY_CODE). A
registered one is served as registered, versioned; a code that only posted records is still served, with its
code as its name and no version, as before the registry existed.

Who registers: a HIS client (clinical.write) its own facility only; an administrator (registry.units.write,
the right to shape the units of the registry, whose facilities these are) any facility. Anyone else: 403.
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.datastructures import QueryParams

from clinical.fhir import outbound, queries
from clinical.fhir.search import Search, organization_identifier, parse_search
from clinical.tables import Facility
from contracts.api.gateway import UNIT_PATH_PATTERN
from contracts.fhir import EXT_MANAGING_UNIT, SID_FACILITY_CODE
from contracts.permissions import Permission
from contracts.scope import Principal
from servicekit import clock
from servicekit.fhir import FhirError, instant, validate, version_of_etag
from servicekit.pagination import PageParams

CODE = re.compile(r"[A-Za-z0-9.-]{1,50}")  # also a valid FHIR id, as the code is the Organization's id
UNIT_PATH = re.compile(UNIT_PATH_PATTERN)
MAX_NAME, MAX_ADDRESS = 300, 500
PROVIDER = outbound.coding("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider")


@dataclass(frozen=True)
class FacilityData:
    """What an Organization says of a facility (all the registry keeps)."""

    code: str
    name: str
    address: str | None
    unit_path: str | None
    active: bool


@dataclass(frozen=True)
class FoundOrganizations:
    resources: list[dict[str, Any]]
    total: int


def fold(text: str) -> str:
    """Lower case without diacritics (đ → d): how names are compared, alike on both databases."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def not_found(code: str) -> FhirError:
    return FhirError(404, "not-found", f"Organization/{code} is not known")


def invalid(path: str, message: str, code: str = "value") -> FhirError:
    return FhirError(422, code, f"{path}: {message}", path)


# ---- the resource ------------------------------------------------------------------------------------


def facility_data(body: dict[str, Any]) -> FacilityData:
    """The registry's fields of a valid R4B Organization, else a 422 naming the element."""
    codes = [(i, x.get("value")) for i, x in enumerate(body.get("identifier", [])) if x.get("system") == SID_FACILITY_CODE]
    if len(codes) != 1:
        raise invalid(
            "Organization.identifier", f"exactly one identifier of system {SID_FACILITY_CODE} (the facility code)", "required"
        )
    index, code = codes[0]
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise invalid(f"Organization.identifier[{index}].value", "a facility code is 1 to 50 letters, digits, '.' or '-'")
    name = (body.get("name") or "").strip()
    if not name:
        raise invalid("Organization.name", "a facility is registered with its name", "required")
    if len(name) > MAX_NAME:
        raise invalid("Organization.name", f"at most {MAX_NAME} characters")
    return FacilityData(code, name, _address(body), _unit_path(body), bool(body.get("active", True)))


def _address(body: dict[str, Any]) -> str | None:
    addresses = body.get("address") or []
    if not addresses:
        return None
    first = addresses[0]
    parts = [*first.get("line", []), first.get("district"), first.get("city"), first.get("state")]
    text = (first.get("text") or ", ".join(p for p in parts if p)).strip()
    if len(text) > MAX_ADDRESS:
        raise invalid("Organization.address[0]", f"at most {MAX_ADDRESS} characters")
    return text or None


def _unit_path(body: dict[str, Any]) -> str | None:
    for index, extension in enumerate(body.get("extension", [])):
        if extension.get("url") == EXT_MANAGING_UNIT:
            value = extension.get("valueString")
            if not isinstance(value, str) or not UNIT_PATH.fullmatch(value):
                path = f"Organization.extension[{index}].valueString"
                raise invalid(path, "the administrative unit's path, e.g. VN.68")
            return value
    return None


def organization_resource(code: str, row: Facility | None = None) -> dict[str, Any]:
    """A registered facility as registered; a code known only from records with its code as its name."""
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": code,
        "identifier": [{"system": SID_FACILITY_CODE, "value": code}],
        "active": True if row is None else row.active,
        "type": [{"coding": [PROVIDER]}],
        "name": code if row is None else row.name,
    }
    if row is None:
        return resource
    resource["meta"] = {"versionId": str(row.version), "lastUpdated": instant(row.updated_at)}
    if row.unit_path:
        resource["extension"] = [{"url": EXT_MANAGING_UNIT, "valueString": row.unit_path}]
    if row.address:
        resource["address"] = [{"text": row.address}]
    return resource


def may_register(principal: Principal, code: str) -> None:
    """A HIS client its own facility; an administrator any; anyone else none (403)."""
    if Permission.REGISTRY_UNITS_WRITE in principal.permissions:
        return
    if principal.facility and Permission.CLINICAL_WRITE in principal.permissions:
        if principal.facility == code:
            return
        raise FhirError(403, "forbidden", f"a facility's HIS registers its own facility ({principal.facility}), not {code}")
    raise FhirError(403, "forbidden", "facilities are registered by their own HIS or by an administrator")


# ---- read, search ------------------------------------------------------------------------------------


async def read(session: AsyncSession, code: str) -> dict[str, Any]:
    row = await session.get(Facility, code)
    if row is not None:
        return organization_resource(code, row)
    if await session.scalar(queries.facilities(code)) is None:
        raise not_found(code)
    return organization_resource(code)


def _names(search: Search) -> list[str]:
    """The folded `name` values (a comma or a repeated parameter: any one of them matches)."""
    values = [code if system is None else f"{system}|{code}" for system, code in search.token_values("name")]
    return [folded for value in values if (folded := fold(value))]


async def search(session: AsyncSession, criteria: Search, page: PageParams) -> FoundOrganizations:
    """Registered facilities and those known only from records, by code; a name matches when it holds the
    searched text, ignoring case and diacritics."""
    wanted, names = organization_identifier(criteria), _names(criteria)
    rows = list(await session.scalars(queries.registered_facilities(wanted, criteria.ids, names)))
    found = {row.code: organization_resource(row.code, row) for row in rows}
    for code in await session.scalars(queries.facilities_unregistered(wanted)):
        if (not criteria.ids or code in criteria.ids) and (not names or any(n in fold(code) for n in names)):
            found[code] = organization_resource(code)
    ordered = [found[code] for code in sorted(found)]
    return FoundOrganizations(ordered[page.offset : page.offset + page.limit], len(ordered))


# ---- create, update ----------------------------------------------------------------------------------


def _row_values(data: FacilityData) -> dict[str, Any]:
    return {
        "name": data.name,
        "search_name": fold(data.name)[:MAX_NAME],
        "address": data.address,
        "unit_path": data.unit_path,
        "active": data.active,
    }


async def _insert(session: AsyncSession, data: FacilityData) -> Facility | None:
    """Register a facility, None when its code is registered already (also by a request running alongside:
    the primary key decides, so two conditional creates at once register one)."""
    now = clock.now()
    values = {"code": data.code, **_row_values(data), "version": 1, "created_at": now, "updated_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Facility).values(values).on_conflict_do_nothing(index_elements=["code"])
    inserted = await session.execute(statement)
    if not getattr(inserted, "rowcount", 0):
        return None
    return await session.get(Facility, data.code, populate_existing=True)


async def _matching(session: AsyncSession, criteria: str) -> list[Facility]:
    """The registered facilities an If-None-Exist search names (a facility known only from records does not
    count: conditional create is how it gets registered)."""
    try:
        wanted = parse_search("Organization", QueryParams(criteria))
    except FhirError as exc:
        raise FhirError(400, "invalid", f"If-None-Exist: {exc.diagnostics}", "If-None-Exist") from None
    if wanted.identifier is None and not wanted.ids and not _names(wanted):
        raise FhirError(400, "invalid", "If-None-Exist names the facility (identifier, _id or name)", "If-None-Exist")
    statement = queries.registered_facilities(organization_identifier(wanted), wanted.ids, _names(wanted))
    return list(await session.scalars(statement.limit(2)))


async def create(session: AsyncSession, principal: Principal, body: Any, criteria: str | None) -> tuple[int, dict[str, Any]]:
    """201 and the facility registered; with If-None-Exist, 200 and the one it names, 412 when it names several."""
    validate("Organization", body)
    data = facility_data(body)
    may_register(principal, data.code)
    if criteria:
        matching = await _matching(session, criteria)
        if len(matching) > 1:
            raise FhirError(412, "multiple-matches", "If-None-Exist names more than one Organization")
        if matching:
            return 200, organization_resource(matching[0].code, matching[0])
    row = await _insert(session, data)
    if row is not None:
        return 201, organization_resource(row.code, row)
    existing = await session.get(Facility, data.code, populate_existing=True)
    if criteria and existing is not None and criteria_names(criteria, data.code):
        return 200, organization_resource(existing.code, existing)
    raise FhirError(409, "duplicate", f"Organization/{data.code} is registered: update it with PUT", "Organization.identifier")


def criteria_names(criteria: str, code: str) -> bool:
    """Whether conditional criteria name this code (a create that lost the race to one with the same criteria)."""
    wanted = parse_search("Organization", QueryParams(criteria))
    return organization_identifier(wanted) == code or code in wanted.ids


async def update(
    session: AsyncSession, principal: Principal, code: str, body: Any, if_match: str | None
) -> tuple[int, dict[str, Any]]:
    """A new version of a registered facility (200), or its registration (201) when the code is not registered;
    If-Match with another version than the current one: 412. The same content again changes nothing."""
    validate("Organization", body)
    if body.get("id") != code:
        raise FhirError(400, "invalid", f"Organization.id must be {code!r}, the id in the URL", "Organization.id")
    data = facility_data(body)
    if data.code != code:
        raise invalid("Organization.identifier", "a facility's code never changes (it is the Organization's id)")
    may_register(principal, code)
    row = await session.get(Facility, code, populate_existing=True)
    if row is None:
        if if_match is not None:
            raise FhirError(412, "conflict", f"If-Match names a version of Organization/{code}, which has none")
        inserted = await _insert(session, data)
        if inserted is None:
            raise FhirError(409, "conflict", f"Organization/{code} was registered meanwhile: read it and try again")
        return 201, organization_resource(code, inserted)
    if if_match is not None and version_of_etag(if_match) != str(row.version):
        raise FhirError(412, "conflict", f"If-Match names version {if_match}, the current one is {row.version}")
    values = _row_values(data)
    if all(getattr(row, name) == value for name, value in values.items()):
        return 200, organization_resource(code, row)
    # the version in the WHERE: of two updates read at the same version, one wins, the other is told
    statement = (
        sql_update(Facility)
        .where(col(Facility.code) == code, col(Facility.version) == row.version)
        .values(**values, version=row.version + 1, updated_at=clock.now())
    )
    changed = await session.execute(statement)
    if not getattr(changed, "rowcount", 0):
        raise FhirError(409, "conflict", f"Organization/{code} changed meanwhile: read it and try again")
    fresh = await session.get(Facility, code, populate_existing=True)
    assert fresh is not None
    return 200, organization_resource(code, fresh)
