"""An invitation as a FHIR Appointment, and what a status asked for through FHIR means, with no I/O.

Invitation statuses map onto Appointment.status: invited -> pending (the cadre has not confirmed),
confirmed -> booked, attended -> fulfilled, no_show -> noshow, deferred and cancelled -> cancelled (the
deferral's reason in cancelationReason). A facility marks `arrived`: the invitation has no such state, and
a cadre who presents has confirmed, so it records `confirmed` (and the Appointment reads `booked` until the
exam is fulfilled); `fulfilled` records attended, `noshow` a no-show.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts.api.scheduling import InvitationStatus
from contracts.fhir import EXT_MANAGING_UNIT, EXT_PLAN, SID_FACILITY_CODE, SID_INVITATION
from scheduling.tables import Invitation
from servicekit.fhir import FhirError, instant

S = InvitationStatus
APPOINTMENT_STATUS: dict[InvitationStatus, str] = {
    S.INVITED: "pending",
    S.CONFIRMED: "booked",
    S.ATTENDED: "fulfilled",
    S.NO_SHOW: "noshow",
    S.DEFERRED: "cancelled",
    S.CANCELLED: "cancelled",
}
PARTICIPANT_STATUS: dict[InvitationStatus, str] = {
    S.INVITED: "needs-action",
    S.CONFIRMED: "accepted",
    S.ATTENDED: "accepted",
    S.NO_SHOW: "declined",
    S.DEFERRED: "declined",
    S.CANCELLED: "declined",
}
# what a status asked for through FHIR records; a facility's HIS may ask only for the first three
FACILITY_TARGETS: dict[str, InvitationStatus] = {"arrived": S.CONFIRMED, "fulfilled": S.ATTENDED, "noshow": S.NO_SHOW}
BOARD_TARGETS: dict[str, InvitationStatus] = {**FACILITY_TARGETS, "booked": S.CONFIRMED, "cancelled": S.CANCELLED}
EXAM = "Khám sức khỏe định kỳ"  # the periodic health exam


@dataclass(frozen=True)
class Shown:
    """An invitation with what its Appointment also shows: the cadre's name and the version."""

    invitation: Invitation
    full_name: str | None
    version: int


def invitation_statuses(appointment_status: str) -> list[InvitationStatus]:
    """The invitation statuses an Appointment status stands for (a search by `status`)."""
    return [s for s, shown in APPOINTMENT_STATUS.items() if shown == appointment_status]


def _day_bounds(day: date) -> tuple[str, str]:
    """The exam day in Vietnam's time: an instant is what Appointment.start and .end hold."""
    return f"{day.isoformat()}T00:00:00+07:00", f"{(day + timedelta(days=1)).isoformat()}T00:00:00+07:00"


def appointment_of(shown: Shown) -> dict[str, Any]:
    invitation = shown.invitation
    status = S(invitation.status)
    start, end = _day_bounds(invitation.appointment_date)
    cadre: dict[str, Any] = {
        "actor": {"reference": f"Patient/{invitation.cadre_id}", **({"display": shown.full_name} if shown.full_name else {})},
        "required": "required",
        "status": PARTICIPANT_STATUS[status],
    }
    participants = [cadre]
    if invitation.facility and not invitation.at_home:
        facility = {
            "reference": f"Organization/{invitation.facility}",
            "identifier": {"system": SID_FACILITY_CODE, "value": invitation.facility},
        }
        participants.append({"actor": facility, "required": "required", "status": "accepted"})
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(invitation.id),
        "meta": {"versionId": str(shown.version), "lastUpdated": instant(invitation.updated_at)},
        "extension": [
            {"url": EXT_PLAN, "valueString": str(invitation.plan_id)},
            {"url": EXT_MANAGING_UNIT, "valueString": invitation.managing_unit},
        ],
        "identifier": [{"system": SID_INVITATION, "value": str(invitation.id)}],
        "status": APPOINTMENT_STATUS[status],
        "serviceType": [{"text": EXAM}],
        "description": f"{EXAM}, đợt {invitation.round_number}" + (" (tại nhà)" if invitation.at_home else ""),
        "start": start,
        "end": end,
        "participant": participants,
    }
    if invitation.reason:
        resource["comment"] = invitation.reason
        if status in (S.DEFERRED, S.CANCELLED):
            resource["cancelationReason"] = {"text": invitation.reason}
    return resource


def target_of(asked: object, *, facility: bool) -> InvitationStatus:
    """The invitation status a FHIR status records; 422 naming Appointment.status for any other."""
    targets = FACILITY_TARGETS if facility else BOARD_TARGETS
    if not isinstance(asked, str) or asked not in targets:
        allowed = ", ".join(targets)
        raise FhirError(
            422, "business-rule", f"Appointment.status: {asked!r} cannot be set here (allowed: {allowed})", "Appointment.status"
        )
    return targets[asked]


def status_of_patch(patch: object) -> object:
    """The status a patch sets: a JSON Patch replacing `/status`, or a JSON merge patch `{"status": ...}` (what
    several FHIR clients send); anything else it would change is refused, never silently dropped."""
    if isinstance(patch, dict):
        changed = set(patch) - {"resourceType", "id", "meta"}
        if changed != {"status"}:
            raise FhirError(422, "not-supported", f"only Appointment.status may be patched, not {sorted(changed)}", "Appointment")
        return patch["status"]
    if not isinstance(patch, list) or not patch:
        raise FhirError(400, "structure", "a JSON Patch is a non-empty array of operations")
    value: object = None
    for index, operation in enumerate(patch):
        if not isinstance(operation, dict) or operation.get("op") not in ("replace", "add") or operation.get("path") != "/status":
            problem = f"patch operation {index}: only replace of /status is supported"
            raise FhirError(422, "not-supported", problem, "Appointment.status")
        value = operation.get("value")
    return value
