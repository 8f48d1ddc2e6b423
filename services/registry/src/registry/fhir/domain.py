"""A cadre as a FHIR Patient and back, with no I/O.

Served: the CCCD, the BHYT card (with its period) and the board's health-care card as identifiers (VN Core
systems where it has them), the cadre id as CadreCare's own, the name split as Vietnamese names are (family
name first), and the tier, managing unit and status as CadreCare extensions: what a board that moves to
another system needs to register the cadre again. Accepted: the same, for a registration.
"""

from typing import Any

from pydantic import ValidationError

from contracts.api.registry import CadreCreate, CadrePublic
from contracts.enums import CadreStatus
from contracts.fhir import (
    CS_MANAGEMENT_TIER,
    EXT_CADRE_STATUS,
    EXT_MANAGEMENT_TIER,
    EXT_MANAGING_UNIT,
    EXT_STATUS_SINCE,
    SID_BHYT,
    SID_CADRE,
    SID_CCCD,
    SID_HEALTH_CARD,
)
from servicekit.fhir import FhirError, Issue, instant

# CadreCreate's fields -> the element of a Patient they come from (to name it in an OperationOutcome)
ELEMENT_OF_FIELD = {
    "full_name": "Patient.name",
    "date_of_birth": "Patient.birthDate",
    "sex": "Patient.gender",
    "national_id": "Patient.identifier",
    "tier": f"Patient.extension('{EXT_MANAGEMENT_TIER}')",
    "managing_unit": f"Patient.extension('{EXT_MANAGING_UNIT}')",
    "status": f"Patient.extension('{EXT_CADRE_STATUS}')",
    "status_since": f"Patient.extension('{EXT_STATUS_SINCE}')",
    "phone": "Patient.telecom",
    "residence_address": "Patient.address",
    "bhyt_number": "Patient.identifier",
    "bhyt_valid_from": "Patient.identifier.period",
    "bhyt_valid_to": "Patient.identifier.period",
}


def _name(full_name: str) -> dict[str, Any]:
    words = full_name.split()
    name: dict[str, Any] = {"use": "official", "text": full_name, "family": words[0]}
    if len(words) > 1:
        name["given"] = words[1:]
    return name


def _bhyt(cadre: CadrePublic) -> dict[str, Any]:
    identifier: dict[str, Any] = {"system": SID_BHYT, "value": cadre.bhyt_number}
    period = {k: v.isoformat() for k, v in (("start", cadre.bhyt_valid_from), ("end", cadre.bhyt_valid_to)) if v}
    if period:
        identifier["period"] = period
    return identifier


def patient_of(cadre: CadrePublic) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = [
        {"use": "official", "system": SID_CCCD, "value": cadre.national_id},
        {"use": "secondary", "system": SID_CADRE, "value": str(cadre.id)},
    ]
    if cadre.bhyt_number:
        identifiers.append(_bhyt(cadre))
    if cadre.card_number:
        identifiers.append({"system": SID_HEALTH_CARD, "value": cadre.card_number})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(cadre.id),
        "meta": {"lastUpdated": instant(cadre.updated_at)},
        "extension": [
            {"url": EXT_MANAGING_UNIT, "valueString": cadre.managing_unit},
            {"url": EXT_MANAGEMENT_TIER, "valueCoding": {"system": CS_MANAGEMENT_TIER, "code": cadre.tier.value}},
            {"url": EXT_CADRE_STATUS, "valueCode": cadre.status.value},
            {"url": EXT_STATUS_SINCE, "valueDate": cadre.status_since.isoformat()},
        ],
        "identifier": identifiers,
        "active": cadre.status in (CadreStatus.ACTIVE, CadreStatus.RETIRED),
        "name": [_name(cadre.full_name)],
        "gender": cadre.sex.value,
        "birthDate": cadre.date_of_birth.isoformat(),
    }
    if cadre.status == CadreStatus.DECEASED:
        resource["deceasedDateTime"] = cadre.status_since.isoformat()
    if cadre.phone:
        resource["telecom"] = [{"system": "phone", "value": cadre.phone}]
    if cadre.residence_address:
        resource["address"] = [{"use": "home", "text": cadre.residence_address}]
    return resource


def _extension(body: dict[str, Any], url: str) -> dict[str, Any] | None:
    return next((e for e in body.get("extension") or [] if isinstance(e, dict) and e.get("url") == url), None)


def _identifier(body: dict[str, Any], system: str) -> dict[str, Any] | None:
    return next((i for i in body.get("identifier") or [] if isinstance(i, dict) and i.get("system") == system), None)


def _full_name(body: dict[str, Any]) -> str | None:
    names = body.get("name") or []
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    if not official:
        return None
    text = official.get("text") or " ".join([official.get("family") or "", *(official.get("given") or [])])
    return " ".join(str(text).split()) or None


def registration_of(body: dict[str, Any]) -> CadreCreate:
    """The registration a (validated) Patient asks for; FhirError 422 naming each element at fault."""
    tier = (_extension(body, EXT_MANAGEMENT_TIER) or {}).get("valueCoding") or {}
    bhyt = _identifier(body, SID_BHYT) or {}
    period = bhyt.get("period") or {}
    phone = next((t.get("value") for t in body.get("telecom") or [] if t.get("system") == "phone"), None)
    address = next((a.get("text") for a in body.get("address") or [] if a.get("text")), None)
    fields: dict[str, Any] = {
        "full_name": _full_name(body),
        "date_of_birth": body.get("birthDate"),
        "sex": body.get("gender"),
        "national_id": (_identifier(body, SID_CCCD) or {}).get("value"),
        "tier": tier.get("code"),
        "managing_unit": (_extension(body, EXT_MANAGING_UNIT) or {}).get("valueString"),
        "status": (_extension(body, EXT_CADRE_STATUS) or {}).get("valueCode") or CadreStatus.ACTIVE.value,
        "status_since": (_extension(body, EXT_STATUS_SINCE) or {}).get("valueDate"),
        "bhyt_number": bhyt.get("value"),
        "bhyt_valid_from": period.get("start"),
        "bhyt_valid_to": period.get("end"),
        "phone": phone,
        "residence_address": address,
    }
    try:
        return CadreCreate.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        issues = []
        for error in exc.errors(include_url=False):
            field = str(error["loc"][0]) if error["loc"] else ""
            element = ELEMENT_OF_FIELD.get(field, "Patient")
            code = "required" if error["type"] == "missing" else "value"
            issues.append(Issue(code, f"{element} ({field}): {error['msg']}", (element,)))
        raise FhirError(422, issues[0].code, issues[0].diagnostics, issues=issues) from None


def if_none_exist_cccd(header: str) -> str:
    """The CCCD an `If-None-Exist: identifier=<cccd system>|<number>` names: the only condition supported."""
    name, _, value = header.strip().partition("=")
    system, bar, number = value.rpartition("|")
    if name.strip() != "identifier" or not bar or system != SID_CCCD or not number.isdigit():
        raise FhirError(
            400,
            "not-supported",
            f"If-None-Exist: only identifier={SID_CCCD}|<12-digit CCCD> is supported, not {header!r}",
            "If-None-Exist",
        )
    return number
