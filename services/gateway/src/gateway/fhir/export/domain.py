"""Rules of an export with no I/O: which types, since when, and the grants a Group export runs with."""

from datetime import datetime

from contracts.enums import Action
from contracts.scope import Grant, unit_covers
from servicekit.fhir import FhirError

EXPORT_TYPES = ("Patient", "Encounter", "Observation", "DiagnosticReport", "Condition", "ServiceRequest", "Appointment")
NDJSON_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
READ_ONLY = frozenset({Action.READ})


def requested_types(raw: str | None) -> tuple[str, ...] | None:
    """`_type` as a tuple in the order given (None when absent); an unknown or unexportable type is a 400."""
    if raw is None or not raw.strip():
        return None
    names = tuple(dict.fromkeys(t.strip() for t in raw.split(",") if t.strip()))
    unknown = [t for t in names if t not in EXPORT_TYPES]
    if unknown:
        exportable = ", ".join(EXPORT_TYPES)
        raise FhirError(400, "not-supported", f"_type: cannot export {', '.join(unknown)} (exportable: {exportable})", "_type")
    return names


def since_of(raw: str | None) -> datetime | None:
    if raw is None or not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FhirError(400, "invalid", f"_since: {raw!r} is not a FHIR instant", "_since") from None
    if moment.tzinfo is None:
        raise FhirError(400, "invalid", "_since: an instant needs its time zone (e.g. 2026-01-01T00:00:00Z)", "_since")
    return moment


def check_kick_off(prefer: str | None, output_format: str | None) -> None:
    if "respond-async" not in (prefer or "").replace(" ", "").lower().split(","):
        raise FhirError(400, "invalid", "an export is asynchronous: send the header 'Prefer: respond-async'")
    if output_format is not None and output_format not in NDJSON_FORMATS:
        problem = f"_outputFormat: only application/fhir+ndjson, not {output_format!r}"
        raise FhirError(400, "not-supported", problem, "_outputFormat")


def narrowed_to(grants: tuple[Grant, ...], unit: str) -> tuple[Grant, ...]:
    """Read grants covering only `unit` and what is below it: a Group export reads no more than its group and
    no more than the caller may read (an empty result means the group is not the caller's)."""
    found: list[Grant] = []
    for grant in grants:
        if Action.READ not in grant.actions:
            continue
        if unit_covers(grant.unit_path, unit):
            found.append(grant.model_copy(update={"unit_path": unit, "actions": READ_ONLY}))
        elif unit_covers(unit, grant.unit_path):
            found.append(grant.model_copy(update={"actions": READ_ONLY}))
    return tuple(found)


def read_only(grants: tuple[Grant, ...]) -> tuple[Grant, ...]:
    """The caller's read grants only: an export writes nothing."""
    return tuple(g.model_copy(update={"actions": READ_ONLY}) for g in grants if Action.READ in g.actions)
