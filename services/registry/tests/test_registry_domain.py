"""The registry's rules without a database: CCCD, lifecycle transitions, the reorganisation planner, spreadsheets."""

import io
import uuid
from datetime import date

import pytest
from openpyxl import Workbook

from contracts.api.registry import DissolveLevel, MergeUnits, RenameUnit, SplitTarget, SplitUnit
from contracts.enums import CadreStatus, ManagementTier, Sex, UnitLevel
from registry.domain import (
    CadreFacts,
    Operation,
    fold_name,
    national_id_problems,
    new_card_number,
    registration_problems,
    transition_problems,
)
from registry.reorganisation import PlanError, UnitState, plan
from registry.spreadsheet import XLSX_TYPE, read_rows

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


def unit(path: str, name: str, level: UnitLevel) -> UnitState:
    parent = path.rsplit(".", 1)[0] if "." in path else None
    return UnitState(path, path.rsplit(".", 1)[-1], name, level, parent)


TREE = {
    u.path: u
    for u in [
        unit("VN", "Việt Nam", UnitLevel.NATION),
        unit("VN.68", "Lâm Đồng", UnitLevel.PROVINCE),
        unit("VN.68.672", "Đà Lạt", UnitLevel.DISTRICT),
        unit("VN.68.672.24775", "Phường 1", UnitLevel.COMMUNE),
        unit("VN.67", "Đắk Nông", UnitLevel.PROVINCE),
        unit("VN.67.660", "Gia Nghĩa", UnitLevel.DISTRICT),
        unit("VN.60", "Bình Thuận", UnitLevel.PROVINCE),
    ]
}


def test_merge_then_dissolve_the_district_level() -> None:
    result = plan(
        TREE,
        [
            MergeUnits(sources=["VN.68", "VN.67", "VN.60"], target="VN.68", target_name="Tỉnh Lâm Đồng"),
            DissolveLevel(under="VN.68", level="district"),
        ],
    )
    assert result.forward == {
        "VN.67": "VN.68",
        "VN.60": "VN.68",
        "VN.67.660": "VN.68",
        "VN.68.672": "VN.68",
        "VN.68.672.24775": "VN.68.24775",
    }
    assert sorted(u.path for u in result.created) == ["VN.68", "VN.68.24775"]
    assert {u.path for u in result.closed} == {"VN.68", "VN.67", "VN.60", "VN.67.660", "VN.68.672", "VN.68.672.24775"}
    assert next(u for u in result.created if u.path == "VN.68.24775").parent_path == "VN.68"
    assert result.mapping["VN.67.660"] == ["VN.68.660"] and result.mapping["VN.68.660"] == ["VN.68"]


def test_rename_keeps_the_path_and_moves_nobody() -> None:
    result = plan(TREE, [RenameUnit(unit="VN.68.672", name="Thành phố Đà Lạt (mới)")])
    assert result.forward == {}
    assert [u.name for u in result.created] == ["Thành phố Đà Lạt (mới)"]


def test_a_split_needs_every_cadre_and_child_mapped() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    op = SplitUnit(
        source="VN.67.660",
        into=[SplitTarget(path="VN.67.901", name="Bắc"), SplitTarget(path="VN.67.902", name="Nam")],
        cadres={a: "VN.67.901"},
    )
    with pytest.raises(PlanError) as missing:
        plan(TREE, [op], {"VN.67.660": {a, b}})
    assert missing.value.loc == ["operations", 0, "cadres"]
    done = plan(TREE, [op.model_copy(update={"cadres": {a: "VN.67.901", b: "VN.67.902"}})], {"VN.67.660": {a, b}})
    assert done.cadre_overrides == {a: "VN.67.901", b: "VN.67.902"}
    assert "VN.67.660" not in done.forward


def test_unknown_units_and_collisions_are_refused_with_their_location() -> None:
    with pytest.raises(PlanError) as unknown:
        plan(TREE, [MergeUnits(sources=["VN.68", "VN.99"], target="VN.68")])
    assert unknown.value.loc == ["operations", 0, "sources", 1]
    with pytest.raises(PlanError) as levels:
        plan(TREE, [MergeUnits(sources=["VN.68", "VN.67.660"], target="VN.68")])
    assert levels.value.loc == ["operations", 0, "sources"]


def test_csv_with_vietnamese_headers_and_values() -> None:
    content = "Họ và tên;Ngày sinh;Giới tính;Số CCCD;Diện quản lý;Đơn vị quản lý;Tình trạng\n"
    content += "Trần Thị Lan;05/04/1962;Nữ;68162000123;Đối tượng 2;VN.68;Nghỉ hưu\n\n"
    rows = read_rows(content.encode(), "text/csv")
    assert rows[0] == {
        "full_name": "Trần Thị Lan",
        "date_of_birth": "1962-04-05",
        "sex": "female",
        "national_id": "068162000123",
        "tier": "provincial_2",
        "managing_unit": "VN.68",
        "status": "retired",
    }
    assert rows[1] == {}


def test_xlsx_rows() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["full_name", "date_of_birth", "sex", "national_id", "eligibility"])
    sheet.append(["Lê Văn Thử", date(1960, 1, 15), "male", 68060000001, "professor; senior_specialist"])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = read_rows(buffer.getvalue(), XLSX_TYPE)
    assert rows == [
        {
            "full_name": "Lê Văn Thử",
            "date_of_birth": "1960-01-15",
            "sex": "male",
            "national_id": "068060000001",
            "eligibility": ["professor", "senior_specialist"],
        }
    ]
