"""Clinical's reference data without a database: the ICD-10 list and the chronic-condition grouping."""

import pytest

from clinical import codes


def test_the_icd10_list_holds_every_chapter_and_knows_its_gaps() -> None:
    icd = codes.icd10()
    assert len(icd.categories) > 1900
    for category in ["A09", "C34", "E11", "I10", "I25", "J44", "K74", "N18", "U07", "Z00", "S72", "T78"]:
        assert category in icd.categories, category
    for gap in ["I14", "I16", "C42", "Z16", "E33", "J97", "D85"]:
        assert gap not in icd.categories, gap
    assert icd.title("E11.9") == "Type 2 diabetes mellitus without complications"
    assert icd.title("I10.9") == "Essential (primary) hypertension"


@pytest.mark.parametrize(
    ("raw", "code", "valid"),
    [
        ("I10", "I10", True), ("e11.9", "E11.9", True), ("E119", "E11.9", True), ("I10.7", "I10.7", True),
        (" j44.1 ", "J44.1", True), ("G30.0*", "G30.0", True), ("I14", "I14", False), ("XYZ", "XYZ", False),
        ("I1", "I1", False), ("Q99.9.9", "Q99.9.9", False),
    ],
)  # fmt: skip
def test_codes_are_normalised_and_checked_by_category(raw: str, code: str, valid: bool) -> None:
    normalised, problem = codes.icd10().check(raw)
    assert normalised == code and (problem is None) is valid


def test_every_chronic_group_names_existing_categories() -> None:
    groups = codes.chronic_groups()
    assert {g.group for g in groups} >= {"hypertension", "cardiovascular", "diabetes", "copd", "cancer"}
    for group in groups:  # runs such as C00-C97 span gaps; a code matches only once it passed the ICD-10 check
        assert group.categories & codes.icd10().categories, group.group
    assert codes.groups_of(["I12.0"]) == ["hypertension", "chronic_kidney"]
    assert codes.groups_of(["E79.0", "C34.1"]) == ["cancer", "gout"]
    assert codes.groups_of(["J20"]) == []
