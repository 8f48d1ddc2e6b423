"""The national units as read from vietnam-provinces and vietnamadminunits (no database)."""

import time
import uuid
from collections import Counter

import pytest

from contracts.enums import UnitLevel
from registry.units.national import NationalUnits, coarse_key, fine_key, levels, national_units
from registry.units.national_moves import destination


@pytest.fixture(scope="module")
def data() -> NationalUnits:
    return national_units()


def test_63_provinces_with_districts_and_communes_before_the_reform(data: NationalUnits) -> None:
    counts = levels(data.legacy)
    assert counts[UnitLevel.PROVINCE] == 63
    assert 690 <= counts[UnitLevel.DISTRICT] <= 710  # 696 in the data set (the end of 2024)
    assert counts[UnitLevel.COMMUNE] == 10035
    assert data.nation.path == "VN" and data.nation.parent_path is None
    paths = {u.path for u in data.legacy}
    assert len(paths) == len(data.legacy)
    for unit in data.legacy:  # parents first, codes as the paths say
        assert unit.parent_path == "VN" or unit.parent_path in paths
        assert unit.path.rsplit(".", 1)[1] == unit.code
        assert len(unit.code) == {UnitLevel.PROVINCE: 2, UnitLevel.DISTRICT: 3, UnitLevel.COMMUNE: 5}[unit.level]
    by_path = {u.path: u for u in data.legacy}
    assert by_path["VN.68.672"].name == "Thành phố Đà Lạt"
    assert by_path["VN.67"].name == "Tỉnh Đắk Nông" and by_path["VN.60"].name == "Tỉnh Bình Thuận"
    assert by_path["VN.68.672.24784"].name == "Phường 1"
    assert by_path["VN.68.672.24784"].latitude is not None


def test_34_provinces_and_3321_communes_directly_under_them_after(data: NationalUnits) -> None:
    counts = levels(data.current)
    assert counts == Counter({UnitLevel.PROVINCE: 34, UnitLevel.COMMUNE: 3321})
    provinces = {u.path: u for u in data.current if u.level == UnitLevel.PROVINCE}
    for unit in data.current:
        if unit.level == UnitLevel.COMMUNE:
            assert unit.parent_path in provinces and unit.path == f"{unit.parent_path}.{unit.code}" and len(unit.code) == 5
            assert unit.latitude is not None and unit.longitude is not None
    assert provinces["VN.68"].name == "Tỉnh Lâm Đồng"
    assert provinces["VN.79"].name == "Thành phố Hồ Chí Minh"
    assert "  " not in "".join(u.name for u in data.current)


def test_lam_dong_keeps_its_code_and_absorbs_dak_nong_and_binh_thuan(data: NationalUnits) -> None:
    assert data.sources_of("VN.68") == ["VN.60", "VN.67", "VN.68"]
    assert [s.new_path for s in data.successors_of("VN.67")] == ["VN.68"]
    assert [s.new_path for s in data.successors_of("VN.60")] == ["VN.68"]
    assert "VN.68" not in data.unchanged_provinces()  # it continues its path in a new version
    assert {"VN.01", "VN.04"} <= data.unchanged_provinces()  # Hà Nội and Cao Bằng were not merged
    assert len(data.unchanged_provinces()) == 11


def test_every_old_unit_has_a_successor_and_exactly_one_default(data: NationalUnits) -> None:
    current = {u.path for u in data.current}
    for unit in data.legacy:
        successors = data.successors_of(unit.path)
        assert successors, unit
        assert sum(s.is_default for s in successors) == 1, unit
        assert all(s.new_path in current for s in successors)
    assert {s.new_path for s in data.successors if s.new_path.count(".") == 2} == {
        u.path for u in data.current if u.level == UnitLevel.COMMUNE
    }  # every new commune comes from somewhere


def test_a_split_commune_has_several_successors_with_the_official_default_first(data: NationalUnits) -> None:
    phong_phu = data.successors_of("VN.60.595.22978")  # Xã Phong Phú, Tuy Phong (Bình Thuận)
    assert [(s.new_path, s.is_default) for s in phong_phu] == [("VN.68.22972", True), ("VN.68.22978", False)]
    split = [u.path for u in data.legacy if u.level == UnitLevel.COMMUNE and len(data.successors_of(u.path)) > 1]
    assert len(split) == 471


def test_a_dissolved_district_maps_to_the_communes_formed_from_it(data: NationalUnits) -> None:
    da_lat = data.successors_of("VN.68.672")
    names = {u.path: u.name for u in data.current}
    assert names[da_lat[0].new_path] == "Phường Xuân Hương - Đà Lạt" and da_lat[0].is_default
    assert {names[s.new_path] for s in da_lat} >= {"Phường Lâm Viên - Đà Lạt", "Phường Lang Biang - Đà Lạt"}
    con_dao = data.successors_of("VN.77.755")  # an island district without communes (Bà Rịa - Vũng Tàu): the special zone
    assert [names[s.new_path] for s in con_dao] == ["Đặc khu Côn Đảo"]


def test_codes_are_the_gso_codes_of_vietnam_provinces_and_the_mismatches_are_listed(data: NationalUnits) -> None:
    assert 100 <= len(data.code_mismatches) <= 140  # the packages disagree on these communes' codes
    ham_liem = next(m for m in data.code_mismatches if m.name == "Xã Hàm Liêm")
    assert (ham_liem.vietnamadminunits_code, ham_liem.vietnam_provinces_code) == ("23095", "23098")
    assert any(u.path == "VN.68.23098" for u in data.current)


def test_names_fold_alike_whatever_the_tone_placement_but_stay_distinct() -> None:
    assert fine_key("Xã Hoà An") == fine_key("Xã Hòa An") and fine_key("Xã Thuỷ") == fine_key("xã  thủy")
    assert coarse_key("Xã Văn Lang") == coarse_key("Xã Văn Lăng") and fine_key("Xã Văn Lang") != fine_key("Xã Văn Lăng")


def test_one_province_subset(data: NationalUnits) -> None:
    lam_dong = data.for_provinces(["VN.68"])
    assert {u.path for u in lam_dong.legacy if u.level == UnitLevel.PROVINCE} == {"VN.60", "VN.67", "VN.68"}
    assert [u.path for u in lam_dong.current if u.level == UnitLevel.PROVINCE] == ["VN.68"]
    assert {s.old_path.split(".")[1] for s in lam_dong.successors} == {"60", "67", "68"}
    with pytest.raises(ValueError, match="not provinces of the 2025 map"):
        data.for_provinces(["VN.67"])  # not a province any more


def test_built_once() -> None:
    started = time.perf_counter()
    assert national_units() is national_units()
    assert time.perf_counter() - started < 0.01


def _cadre(unit: str, tier: str, residence: str | None = None) -> dict[str, object]:
    return {"id": uuid.uuid4(), "managing_unit": unit, "tier": tier, "residence_unit": residence}


def test_where_a_cadre_of_a_retired_unit_goes(data: NationalUnits) -> None:
    assert destination(_cadre("VN.67", "provincial_1"), data, {}) == ("VN.68", "provincial_1")
    # a district-tier cadre: the commune tier, at their residence's successor if it succeeds the district
    assert destination(_cadre("VN.68.672", "district", "VN.68.672.24808"), data, {}) == (
        data.successors_of("VN.68.672.24808")[0].new_path,
        "commune",
    )
    assert destination(_cadre("VN.68.672", "district", "VN.67.660"), data, {}) == (
        data.successors_of("VN.68.672")[0].new_path,
        "commune",
    )
    assert destination(_cadre("VN.68.672", "district"), data, {"VN.68": "provincial_3"}) == ("VN.68", "provincial_3")
    # a split commune: the residence if it is one of the parts, else the default part
    assert destination(_cadre("VN.60.595.22978", "treatment_only", "VN.68.22978"), data, {}) == ("VN.68.22978", "treatment_only")
    assert destination(_cadre("VN.60.595.22978", "treatment_only"), data, {}) == ("VN.68.22972", "treatment_only")
