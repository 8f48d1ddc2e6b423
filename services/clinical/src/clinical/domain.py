"""Clinical rules with no I/O: what makes a posted record valid, how it is normalised and compared,
how a transfer or discharge changes an admission, which cadre a card names and whether a facility
may write for them. Unit-tested without a database (tests/test_domain.py).
"""

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from pydantic import BaseModel

from clinical.codes import groups_of, icd10
from contracts.api.clinical import (
    AdmissionIn,
    ConsultationIn,
    Discharge,
    DischargeIn,
    HomeVisitIn,
    Observation,
    OutpatientVisitIn,
    PeriodicExamIn,
    ReferralIn,
    TransferIn,
    WardTransfer,
)
from contracts.api.common import FieldError
from contracts.codesystems import CODE_SYSTEMS, find_code_system
from contracts.enums import Action, CadreStatus, EncounterKind, ManagementTier, ReferralKind
from contracts.scope import Principal
from servicekit.errors import field_error
from servicekit.scope import may

RecordIn = PeriodicExamIn | OutpatientVisitIn | AdmissionIn | ReferralIn | HomeVisitIn | ConsultationIn
MovementIn = TransferIn | DischargeIn
Loc = list[str | int]

CCCD_PATTERN = re.compile(r"^\d{12}$")
CARD_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{3,29}$")
IDENTITY_FIELDS = frozenset({"card_number", "national_id"})


# ---- validation of one posted record -------------------------------------------------------------


class _Checker:
    def __init__(self, today: date) -> None:
        self.today = today
        self.errors: list[FieldError] = []

    def not_future(self, value: date | None, loc: Loc) -> None:
        if value is not None and value > self.today:
            self.errors.append(
                field_error(
                    loc, f"{value.isoformat()} is in the future (today is {self.today.isoformat()} in Vietnam)", "date_in_future"
                )
            )

    def codes(self, diagnoses: Sequence[Any], loc: Loc) -> list[Any]:
        normalised = []
        for index, diagnosis in enumerate(diagnoses):
            code, problem = icd10().check(diagnosis.code)
            if problem:
                self.errors.append(field_error([*loc, index, "code"], problem, "unknown_icd10"))
            normalised.append(diagnosis if code == diagnosis.code else diagnosis.model_copy(update={"code": code}))
        return normalised

    def observations(self, observations: Sequence[Observation], loc: Loc) -> None:
        for index, observation in enumerate(observations):
            numeric = isinstance(observation.value, int | float) and not isinstance(observation.value, bool)
            if numeric and not (observation.unit or "").strip():
                self.errors.append(
                    field_error(
                        [*loc, index, "unit"],
                        f"the numeric value {observation.value} of {observation.code!r} needs a unit",
                        "unit_missing",
                    )
                )

    def classification(self, item: PeriodicExamIn) -> None:
        value = item.classification
        if value is None:
            return
        system = find_code_system(value.system, value.version)
        if system is None:
            known = ", ".join(f"{s} version {v}" for s, v in CODE_SYSTEMS)
            self.errors.append(
                field_error(
                    ["classification", "system"],
                    f"unknown code system {value.system!r} version {value.version!r} (known: {known})",
                    "unknown_code_system",
                )
            )
        elif not system.has(value.code):
            self.errors.append(
                field_error(
                    ["classification", "code"],
                    f"{value.code!r} is not a code of {system.system} version {system.version}"
                    f" ({', '.join(system.code_values())})",
                    "unknown_classification",
                )
            )

    def stay(self, admission: AdmissionIn, transfer_loc: Loc | None, discharge_loc: Loc) -> None:
        """Transfers and discharge of an admission, against its admission date and each other.

        transfer_loc None: the transfers are already stored (a discharge posted on its own); a conflict
        with them is then the discharge's fault.
        """
        admitted = admission.occurred_on
        discharge = admission.discharge
        for index, transfer in enumerate(admission.transfers):
            if transfer_loc is not None:
                loc: Loc = [*transfer_loc, index, "on"]
                self.not_future(transfer.on, loc)
                if transfer.on < admitted:
                    self.errors.append(
                        field_error(loc, f"the transfer ({transfer.on}) is before the admission ({admitted})", "before_admission")
                    )
            if discharge is not None and transfer.on > discharge.discharged_on:
                where = [*transfer_loc, index, "on"] if transfer_loc is not None else discharge_loc
                self.errors.append(
                    field_error(
                        where,
                        f"the transfer ({transfer.on}) is after the discharge ({discharge.discharged_on})",
                        "after_discharge",
                    )
                )
        if discharge is not None:
            self.not_future(discharge.discharged_on, discharge_loc)
            if discharge.discharged_on < admitted:
                self.errors.append(
                    field_error(
                        discharge_loc,
                        f"the discharge ({discharge.discharged_on}) is before the admission ({admitted})",
                        "discharge_before_admission",
                    )
                )


def normalise_record(item: RecordIn, today: date) -> tuple[RecordIn, list[FieldError]]:
    """The record with its ICD-10 codes normalised, and every field error found (empty when valid)."""
    check = _Checker(today)
    check.not_future(item.occurred_on, ["occurred_on"])
    updates: dict[str, Any] = {"diagnoses": check.codes(item.diagnoses, ["diagnoses"])}
    if isinstance(item, PeriodicExamIn):
        for name in ("measurements", "labs", "imaging"):
            check.observations(getattr(item, name), [name])
        check.classification(item)
    elif isinstance(item, OutpatientVisitIn | HomeVisitIn):
        check.observations(item.measurements, ["measurements"])
    elif isinstance(item, AdmissionIn):
        if item.discharge is not None:
            codes = check.codes(item.discharge.diagnoses, ["discharge", "diagnoses"])
            updates["discharge"] = item.discharge.model_copy(update={"diagnoses": codes})
        check.stay(item, ["transfers"], ["discharge", "discharged_on"])
    elif isinstance(item, ReferralIn):
        if item.referral_kind is ReferralKind.ABROAD and not item.council_decision:
            needed = "a referral abroad needs the expert council's decision"
            check.errors.append(field_error(["council_decision"], needed, "council_decision_required"))
        if item.completed_on is not None:
            check.not_future(item.completed_on, ["completed_on"])
            if item.completed_on < item.occurred_on:
                check.errors.append(
                    field_error(
                        ["completed_on"],
                        f"completed ({item.completed_on}) before it was issued ({item.occurred_on})",
                        "before_issue",
                    )
                )
    return item.model_copy(update=updates), check.errors


def apply_movement(admission: AdmissionIn, movement: MovementIn, today: date) -> tuple[AdmissionIn, list[FieldError]]:
    """The admission after a transfer or discharge posted on its own; errors are located on the movement's fields."""
    check = _Checker(today)
    if isinstance(movement, TransferIn):
        transfer = WardTransfer(on=movement.on, to_ward=movement.to_ward, from_ward=movement.from_ward)
        transfers = (
            admission.transfers
            if transfer in admission.transfers
            else sorted([*admission.transfers, transfer], key=lambda t: t.on)
        )
        changed = admission.model_copy(update={"transfers": transfers})
        check.not_future(movement.on, ["on"])
        if movement.on < admission.occurred_on:
            check.errors.append(
                field_error(
                    ["on"], f"the transfer ({movement.on}) is before the admission ({admission.occurred_on})", "before_admission"
                )
            )
        if admission.discharge is not None and movement.on > admission.discharge.discharged_on:
            check.errors.append(
                field_error(
                    ["on"],
                    f"the transfer ({movement.on}) is after the discharge ({admission.discharge.discharged_on})",
                    "after_discharge",
                )
            )
        return changed, check.errors
    codes = check.codes(movement.diagnoses, ["diagnoses"])
    discharge = Discharge(
        discharged_on=movement.discharged_on, outcome=movement.outcome, diagnoses=codes, summary=movement.summary
    )
    changed = admission.model_copy(update={"discharge": discharge})
    check.stay(changed, None, ["discharged_on"])
    return changed, check.errors


# ---- content, comparison, summary ----------------------------------------------------------------


def body_of(item: BaseModel) -> dict[str, Any]:
    """The stored content of a record: everything posted but how the cadre was named."""
    return item.model_dump(mode="json", exclude=set(IDENTITY_FIELDS))


def canonical_json(body: dict[str, Any]) -> str:
    """The one serialisation of a body: hashed to compare versions, and stored as it is (keys sorted).

    Stored hashes were made with `json.dumps`, so its text is the definition. orjson writes the same text
    (keys sorted by code point, the same escapes, shortest floats) several times faster, except floats under
    1e-4 (`1e-05` against `0.00001` or `1e-5`): any text where one may be is written by `json.dumps` again."""
    try:
        fast = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers beyond 64 bits, lone surrogates: json.dumps decides
        fast = b"e-"
    if b"e-" in fast or b"0.0000" in fast:
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return fast.decode()


def hash_of(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def body_hash(body: dict[str, Any]) -> str:
    return hash_of(canonical_json(body))


@dataclass(frozen=True)
class Summary:
    """What the record row and the events carry besides the content."""

    kind: EncounterKind
    occurred_on: date
    ended_on: date | None
    diagnoses: list[str]
    chronic_groups: list[str]
    classification: dict[str, str] | None
    needs_follow_up: bool
    plan_id: uuid.UUID | None
    round_id: uuid.UUID | None
    at_home: bool
    referral_kind: ReferralKind | None
    referral_status: str | None
    discharge_outcome: str | None
    follow_ups: list[dict[str, Any]]  # as stored: {finding, action?, due_by?} (dates as ISO text)


def summarise(kind: str, body: dict[str, Any]) -> Summary:
    codes = [d["code"] for d in body.get("diagnoses", [])]
    discharge = body.get("discharge") or None
    if discharge:
        codes += [d["code"] for d in discharge.get("diagnoses", []) if d["code"] not in codes]
    encounter = EncounterKind(kind)
    plan, round_ = body.get("plan_id"), body.get("round_id")
    return Summary(
        kind=encounter,
        occurred_on=date.fromisoformat(body["occurred_on"]),
        ended_on=date.fromisoformat(discharge["discharged_on"]) if discharge else None,
        diagnoses=codes,
        chronic_groups=groups_of(codes),
        classification=body.get("classification"),
        needs_follow_up=bool(body.get("follow_ups")),
        plan_id=uuid.UUID(plan) if plan else None,
        round_id=uuid.UUID(round_) if round_ else None,
        at_home=bool(body.get("at_home")) or encounter is EncounterKind.HOME_VISIT,
        referral_kind=ReferralKind(body["referral_kind"]) if body.get("referral_kind") else None,
        referral_status=body.get("status") if encounter is EncounterKind.REFERRAL else None,
        discharge_outcome=discharge["outcome"] if discharge else None,
        follow_ups=body.get("follow_ups") or [],
    )


# ---- which cadre, and may this facility write for them -------------------------------------------


@dataclass(frozen=True)
class CadreView:
    cadre_id: uuid.UUID
    national_id: str
    card_number: str | None
    managing_unit: str
    tier: str
    status: str
    date_of_death: date | None


def identity_errors(card_number: str | None, national_id: str | None) -> list[FieldError]:
    if not card_number and not national_id:
        return [field_error(["card_number"], "name the cadre by card_number or national_id (CCCD)", "identity_missing")]
    errors = []
    if card_number and not CARD_PATTERN.match(card_number):
        errors.append(field_error(["card_number"], f"{card_number!r} is not a valid health-care card number", "card_invalid"))
    if national_id and not CCCD_PATTERN.match(national_id):
        errors.append(field_error(["national_id"], f"{national_id!r} is not a valid CCCD (12 digits)", "national_id_invalid"))
    return errors


def cadre_errors(
    principal: Principal,
    card_number: str | None,
    national_id: str | None,
    by_card: CadreView | None,
    by_national_id: CadreView | None,
    on: date,
) -> tuple[CadreView | None, list[FieldError]]:
    """The cadre a HIS names, or why the item is refused (unknown, mismatch, deceased, removed, outside its grants)."""
    field = "card_number" if card_number else "national_id"
    if card_number and by_card is None:
        return None, [field_error(["card_number"], f"no cadre holds the health-care card {card_number!r}", "card_unknown")]
    if national_id and by_national_id is None:
        return None, [field_error(["national_id"], f"no cadre has the CCCD {national_id!r}", "national_id_unknown")]
    cadre = by_card or by_national_id
    assert cadre is not None
    if by_card is not None and by_national_id is not None and by_card.cadre_id != by_national_id.cadre_id:
        return None, [field_error(["national_id"], "the card and the CCCD name different cadres", "identity_mismatch")]
    if cadre.status == CadreStatus.REMOVED:
        removed = "the card is no longer valid: the cadre was removed from the registry"
        return None, [field_error([field], removed, "cadre_removed")]
    if cadre.status == CadreStatus.DECEASED and (cadre.date_of_death is None or on > cadre.date_of_death):
        died = f" on {cadre.date_of_death}" if cadre.date_of_death else ""
        return None, [
            field_error([field], f"the cadre is recorded as deceased{died}: a record dated {on} is refused", "cadre_deceased")
        ]
    if not may(principal, Action.WRITE, cadre.managing_unit, ManagementTier(cadre.tier)):
        return None, [
            field_error(
                [field],
                "this facility may not post records for this cadre: their managing board is outside its grants",
                "outside_grants",
            )
        ]
    return cadre, []
