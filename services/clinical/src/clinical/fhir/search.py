"""FHIR search parameters as clinical understands them, with no I/O: which are accepted for each type (dates
parsed by servicekit.fhir_search). An unknown parameter or a malformed value is a 400 naming the
parameter, never silently ignored (a search that ignores a filter answers more than was asked)."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import QueryParams

from clinical.fhir.outbound import record_id_of
from contracts.fhir import SID_FACILITY_CODE
from servicekit.fhir import FhirError
from servicekit.fhir_search import DateSearch, date_searches

PAGING = frozenset({"_count", "_offset", "_format"})
COMMON = frozenset({"_id", "_lastUpdated", "patient", "subject", "date"})
ACCEPTED: dict[str, frozenset[str]] = {
    "Encounter": COMMON | {"identifier", "class", "type"},
    "DiagnosticReport": COMMON | {"identifier", "category", "code"},
    "ServiceRequest": COMMON | {"identifier", "category"},
    "Observation": COMMON | {"encounter", "category", "code"},
    "Condition": COMMON | {"encounter", "category", "code"},
    "Organization": frozenset({"_id", "identifier", "name"}),
}


def bad(name: str, message: str) -> FhirError:
    return FhirError(400, "invalid", f"search parameter {name}: {message}", name)


def token(value: str) -> tuple[str | None, str]:
    """`system|code`, `|code` (no system) or `code` (any system)."""
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value


def reference_id(name: str, value: str, resource_type: str) -> str:
    """The id a reference parameter names: `Patient/<id>` or `<id>`."""
    found = value.removeprefix(f"{resource_type}/")
    if "/" in found or not found:
        raise bad(name, f"{value!r} is not a {resource_type} reference")
    return found


@dataclass
class Search:
    resource_type: str
    ids: list[str] = field(default_factory=list)
    cadre_id: uuid.UUID | None = None
    patient_given: bool = False
    record_id: uuid.UUID | None = None  # encounter=...
    occurred: list[DateSearch] = field(default_factory=list)
    updated: list[DateSearch] = field(default_factory=list)
    identifier: tuple[str | None, str] | None = None
    tokens: dict[str, list[tuple[str | None, str]]] = field(default_factory=dict)

    def token_values(self, name: str) -> list[tuple[str | None, str]]:
        return self.tokens.get(name, [])

    def record_ids(self) -> list[uuid.UUID]:
        """The records the `_id` values name (a part's id names its record); an id of nothing here, none."""
        found = [record_id_of(value) for value in self.ids]
        return [record_id for record_id in found if record_id is not None]


def _uuid(name: str, value: str) -> uuid.UUID | None:
    """None for an id that cannot exist here: the search then matches nothing (no error: it is a valid id)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def parse_search(resource_type: str, params: QueryParams) -> Search:
    accepted = ACCEPTED[resource_type]
    search = Search(resource_type)
    for name, _value in params.multi_items():
        base = name.split(":", 1)[0]
        if base not in accepted and base not in PAGING:
            known = ", ".join(sorted(accepted))
            raise bad(name, f"not supported for {resource_type} (supported: {known}, _count, _offset)")
        if ":" in name:
            raise bad(name, "modifiers are not supported")
    values: dict[str, list[str]] = {}
    for name, value in params.multi_items():
        if name not in PAGING:
            values.setdefault(name, []).extend(v for v in value.split(",") if v)  # a comma is an OR of values
    search.ids = values.pop("_id", [])
    for name in ("patient", "subject"):
        for value in values.pop(name, []):
            search.patient_given = True
            search.cadre_id = _uuid(name, reference_id(name, value, "Patient")) or uuid.UUID(int=0)
    for value in values.pop("encounter", []):
        search.record_id = _uuid("encounter", reference_id("encounter", value, "Encounter")) or uuid.UUID(int=0)
    search.occurred = date_searches("date", values.pop("date", []))
    search.updated = date_searches("_lastUpdated", values.pop("_lastUpdated", []))
    if "identifier" in values:
        identifiers = values.pop("identifier")
        if len(identifiers) > 1:
            raise bad("identifier", "one identifier at a time")
        search.identifier = token(identifiers[0])
    search.tokens = {name: [token(v) for v in found] for name, found in values.items()}
    return search


def matches_token(wanted: list[tuple[str | None, str]], codings: list[dict[str, Any]]) -> bool:
    """Whether any of the codings is one of the wanted tokens (no wanted token: everything matches)."""
    if not wanted:
        return True
    return any(
        coding.get("code") == code and (system is None or (coding.get("system") or "") == system)
        for system, code in wanted
        for coding in codings
    )


def organization_identifier(search: Search) -> str | None:
    """The facility code an Organization search's identifier names ('' when it names another system)."""
    if search.identifier is None:
        return None
    system, value = search.identifier
    return value if system in (None, SID_FACILITY_CODE) else ""
