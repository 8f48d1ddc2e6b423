"""The registry's rules without a database: name folding, the CCCD, lifecycle and registration rules, card numbers."""

from datetime import date

import pytest

from contracts.enums import CadreStatus, ManagementTier, Sex
from registry.domain import (
    CadreFacts,
    Operation,
    fold_name,
    national_id_problems,
    new_card_number,
    registration_problems,
    transition_problems,
)

TODAY = date(2026, 11, 23)


def test_fold_name_ignores_diacritics_case_and_spacing() -> None:
    assert fold_name("  Nguyễn  Văn ĐỨC ") == "nguyen van duc"
    assert fold_name("Phạm Thị Thu Hà") == "pham thi thu ha"


@pytest.mark.parametrize(
    ("national_id", "born", "sex", "reason"),
    [
        ("06806200012", date(1962, 4, 5), Sex.MALE, "12 digits"),
        ("000062000123", date(1962, 4, 5), Sex.MALE, "province code 000"),
        ("097062000123", date(1962, 4, 5), Sex.MALE, "province code 097"),
        ("068262000123", date(1962, 4, 5), Sex.MALE, "born in the 2000s"),
        ("068063000123", date(1962, 4, 5), Sex.MALE, "birth year 1962"),
        ("068162000123", date(1962, 4, 5), Sex.MALE, "encodes sex female"),
    ],
)
def test_an_inconsistent_cccd_names_the_field_and_the_reason(national_id: str, born: date, sex: Sex, reason: str) -> None:
    problems = national_id_problems(national_id, born, sex)
    assert problems and all(field == "national_id" for field, _ in problems)
    assert any(reason in message for _, message in problems), problems


def test_a_consistent_cccd_passes() -> None:
    assert national_id_problems("068062000123", date(1962, 4, 5), Sex.MALE) == []
    assert national_id_problems("001301000001", date(2001, 1, 1), Sex.FEMALE) == []
    assert national_id_problems("096000000001", date(1900, 1, 1), Sex.MALE) == []
    assert national_id_problems("096800000001", date(1800, 1, 1), Sex.MALE) == []


ACTIVE = CadreFacts(CadreStatus.ACTIVE, date(1966, 5, 1), date(2020, 1, 1), ManagementTier.PROVINCIAL_2)


def check(operation: Operation, facts: CadreFacts, effective: date, **kwargs: object) -> list[tuple[str, str]]:
    return transition_problems(operation, facts, effective, today=TODAY, horizon_days=30, **kwargs)  # type: ignore[arg-type]


def test_lifecycle_rules() -> None:
    assert check(Operation.RETIRE, ACTIVE, date(2026, 6, 1)) == []
    retired = CadreFacts(CadreStatus.RETIRED, date(1966, 5, 1), date(2026, 6, 1), ManagementTier.PROVINCIAL_2)
    assert check(Operation.RETIRE, retired, date(2026, 7, 1))[0][0] == "status"
    young = CadreFacts(CadreStatus.ACTIVE, date(2000, 5, 1), date(2017, 1, 1), ManagementTier.DISTRICT)
    assert check(Operation.RETIRE, young, date(2017, 6, 1)) == [("effective_date", "retirement before the age of 18")]
    assert check(Operation.DIE, ACTIVE, date(2027, 1, 1))[0] == ("effective_date", "more than 30 days in the future")
    assert check(Operation.TRANSFER, ACTIVE, date(2019, 1, 1))[0][1].startswith("before the last recorded change")
    assert check(Operation.CHANGE_TIER, ACTIVE, date(2026, 1, 1), new_tier=ManagementTier.PROVINCIAL_2)[0][0] == "tier"
    dead = CadreFacts(CadreStatus.DECEASED, date(1940, 1, 1), date(2024, 1, 1), ManagementTier.CENTRAL)
    for operation in (Operation.RETIRE, Operation.TRANSFER, Operation.CHANGE_TIER, Operation.REMOVE):
        assert check(operation, dead, date(2025, 1, 1)) == [("status", "the cadre is deceased: no change after death")]


def test_registration_rules() -> None:
    rules = {"today": TODAY, "horizon_days": 30}
    assert registration_problems(CadreStatus.ACTIVE, TODAY, date(1970, 1, 1), **rules) == []  # type: ignore[arg-type]
    assert registration_problems(CadreStatus.DECEASED, TODAY, date(1970, 1, 1), **rules)[0][0] == "status"  # type: ignore[arg-type]
    assert registration_problems(CadreStatus.RETIRED, date(1980, 1, 1), date(1970, 1, 1), **rules)[0][0] == "status_since"  # type: ignore[arg-type]


def test_card_numbers_carry_province_and_year() -> None:
    number = new_card_number("VN.68.672", date(2026, 1, 2))
    assert number.startswith("68-26-") and len(number) == 14
