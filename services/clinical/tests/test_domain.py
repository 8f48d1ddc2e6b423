"""Clinical rules without a database: validation, movements, content comparison, the cadre a card names."""

import uuid
from datetime import UTC, date, datetime

from clinical import domain
from clinical.domain import CadreView
from contracts.api.clinical import AdmissionIn, DischargeIn, PeriodicExamIn, TransferIn
from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, Principal, PrincipalKind
from servicekit import clock

TODAY = date(2026, 3, 10)
HIS = Principal(
    subject="client:his",
    kind=PrincipalKind.HIS,
    facility="68-BVDK",
    grants=(Grant(unit_path="VN.68", tiers=frozenset(ManagementTier), actions=frozenset({Action.WRITE})),),
)


def admission(**overrides: object) -> AdmissionIn:
    values: dict[str, object] = {
        "kind": "admission",
        "external_id": "N1",
        "national_id": "068052000001",
        "occurred_on": "2026-02-10",
        "ward": "A",
    }
    return AdmissionIn.model_validate(values | overrides)


def test_a_transfer_and_a_discharge_change_the_admission_and_are_checked_against_it() -> None:
    stay = admission()
    moved, errors = domain.apply_movement(
        stay, TransferIn(kind="transfer", admission_external_id="N1", on=date(2026, 2, 12), to_ward="ICU"), TODAY
    )
    assert errors == [] and [t.to_ward for t in moved.transfers] == ["ICU"]
    again, _ = domain.apply_movement(
        moved, TransferIn(kind="transfer", admission_external_id="N1", on=date(2026, 2, 12), to_ward="ICU"), TODAY
    )
    assert again == moved  # the same transfer twice is one transfer
    discharge = DischargeIn(
        kind="discharge",
        admission_external_id="N1",
        discharged_on=date(2026, 2, 11),
        outcome="improved",
        diagnoses=[{"code": "j441"}],
    )  # type: ignore[arg-type]
    _, errors = domain.apply_movement(moved, discharge, TODAY)
    assert [(e.loc, e.type) for e in errors] == [(["discharged_on"], "after_discharge")]  # the ICU transfer is after it
    done, errors = domain.apply_movement(moved, discharge.model_copy(update={"discharged_on": date(2026, 2, 20)}), TODAY)
    assert errors == [] and done.discharge is not None and done.discharge.diagnoses[0].code == "J44.1"
    summary = domain.summarise("admission", domain.body_of(done))
    assert (
        summary.ended_on == date(2026, 2, 20) and summary.discharge_outcome == "improved" and summary.chronic_groups == ["copd"]
    )
    early = TransferIn(kind="transfer", admission_external_id="N1", on=date(2026, 2, 1), to_ward="B")
    assert [e.type for e in domain.apply_movement(stay, early, TODAY)[1]] == ["before_admission"]


def test_content_is_compared_without_how_the_cadre_was_named() -> None:
    exam = {"kind": "periodic_exam", "external_id": "K1", "occurred_on": "2026-03-01", "diagnoses": [{"code": "e119"}]}
    by_card = PeriodicExamIn.model_validate(exam | {"card_number": "LD-1"})
    by_cccd = PeriodicExamIn.model_validate(exam | {"national_id": "068052000001"})
    a, _ = domain.normalise_record(by_card, TODAY)
    b, _ = domain.normalise_record(by_cccd, TODAY)
    assert domain.body_hash(domain.body_of(a)) == domain.body_hash(domain.body_of(b))
    assert domain.body_of(a)["diagnoses"][0]["code"] == "E11.9"


def view(**overrides: object) -> CadreView:
    values: dict[str, object] = {
        "cadre_id": uuid.uuid4(), "national_id": "068052000001", "card_number": None, "managing_unit": "VN.68.672",
        "tier": "district", "status": "retired", "date_of_death": None,
    }  # fmt: skip
    return CadreView(**(values | overrides))  # type: ignore[arg-type]


def test_the_cadre_named_must_be_known_alive_on_the_date_and_within_the_facility_grants() -> None:
    alive = view()
    assert domain.cadre_errors(HIS, None, "068052000001", None, alive, TODAY) == (alive, [])
    elsewhere = view(managing_unit="VN.79.760")
    assert domain.cadre_errors(HIS, None, "068052000001", None, elsewhere, TODAY)[1][0].type == "outside_grants"
    dead = view(status="deceased", date_of_death=date(2026, 1, 1))
    assert domain.cadre_errors(HIS, None, "x", None, dead, date(2026, 1, 2))[1][0].type == "cadre_deceased"
    assert domain.cadre_errors(HIS, None, "x", None, dead, date(2026, 1, 1))[1] == []
    assert domain.cadre_errors(HIS, None, "x", None, view(status="removed"), TODAY)[1][0].type == "cadre_removed"
    assert domain.identity_errors(None, None)[0].type == "identity_missing"
    assert clock.vietnam_date(datetime(2026, 3, 9, 18, 0, tzinfo=UTC)) == TODAY  # 01:00 on the 10th in Hà Nội
