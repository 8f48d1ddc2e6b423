"""Reading residence addresses to today's commune, without a database: the parser's readings of the old and the
new form, and the choice among them given a few units and successions (the 2025 mapping, as the registry holds it)."""

import pytest

from contracts.api.addresses import AddressStatus
from registry.addresses.domain import UnitFacts, key, names_district, read_address, resolve, todays_units

XUAN_HUONG = "VN.68.24781"  # Phường Xuân Hương - Đà Lạt, from Phường 1, 2, 3, 4 and 10 of the city of Đà Lạt
HOA_THANG, HONG_THAI = "VN.68.23053", "VN.68.23041"  # the old Xã Hòa Thắng (Bắc Bình, Bình Thuận) was split into both
FACTS = UnitFacts(
    current=frozenset({"VN.68", XUAN_HUONG, HOA_THANG, HONG_THAI}),
    communes=frozenset({XUAN_HUONG, HOA_THANG, HONG_THAI}),
    successors={"VN.68.672.24784": (XUAN_HUONG,), "VN.60.596.23053": (HOA_THANG, HONG_THAI)},
)


@pytest.mark.parametrize(
    "address",
    [
        "Phường 1, Thành phố Đà Lạt, Lâm Đồng",  # the old form, with its district
        "12 Trần Phú, Phường 1, TP. Đà Lạt, Tỉnh Lâm Đồng",  # with a street and an abbreviation
        "phuong 1, thanh pho da lat, lam dong",  # without diacritics
        "Phường Xuân Hương - Đà Lạt, Lâm Đồng",  # the new form
        "12 Trần Phú, Phường Xuân Hương - Đà Lạt, Tỉnh Lâm Đồng",
    ],
)
def test_the_old_and_the_new_form_read_to_todays_commune(address: str) -> None:
    outcome = resolve(read_address(address), FACTS)
    assert (outcome.status, outcome.commune) == (AddressStatus.RESOLVED, XUAN_HUONG)
    assert outcome.latitude is not None and 11 < outcome.latitude < 12.5  # Đà Lạt, for a map


def test_a_split_commune_is_ambiguous_and_names_the_candidates() -> None:
    outcome = resolve(read_address("Xã Hòa Thắng, Huyện Bắc Bình, Tỉnh Bình Thuận"), FACTS)
    assert outcome.status is AddressStatus.AMBIGUOUS and outcome.commune is None
    assert outcome.candidates == (HONG_THAI, HOA_THANG)
    assert outcome.reason is not None and "Hòa Thắng" in outcome.reason


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("asdf qwer 123", "no commune"),
        ("", "no commune"),
        ("Đà Lạt, Lâm Đồng", "no commune"),  # a district only: several communes today
        ("Phường 1, Lâm Đồng", "no commune"),  # which Phường 1? no district, no such commune today
        # the old form names a district, and the old Phường Hàm Thắng is unknown to the old data: the new parser's
        # reading (the district's name as the new Phường Phan Thiết) is not taken
        ("Phường Hàm Thắng, Phan Thiết, Bình Thuận", "no commune"),
        ("Phường 8, Thành phố Đà Lạt, Lâm Đồng", "not among the registry's units"),  # units not loaded
    ],
)
def test_garbage_and_unknown_places_are_unresolved(address: str, reason: str) -> None:
    outcome = resolve(read_address(address), FACTS)
    assert outcome.status is AddressStatus.UNRESOLVED and outcome.commune is None
    assert outcome.reason is not None and reason in outcome.reason


def test_successions_are_followed_through_later_reorganisations() -> None:
    later = UnitFacts(
        current=frozenset({"VN.68.99999"}),
        communes=frozenset({"VN.68.99999"}),
        successors={"VN.68.672.24784": (XUAN_HUONG,), XUAN_HUONG: ("VN.68.99999",)},
    )
    outcome = resolve(read_address("Phường 1, Thành phố Đà Lạt, Lâm Đồng"), later)
    assert (outcome.status, outcome.commune) == (AddressStatus.RESOLVED, "VN.68.99999")
    assert todays_units("VN.1", UnitFacts(successors={"VN.1": ("VN.2",), "VN.2": ("VN.1",)})) == set()  # a cycle ends


def test_a_new_commune_whose_code_the_parser_has_otherwise_is_found_by_its_name() -> None:
    reading = read_address("Xã Trạm Tấu, Lào Cai")
    assert [p.path for p in reading.places()] == ["VN.15.04606"]  # the GSO's code is 04591
    by_name = UnitFacts(
        current=frozenset({"VN.15.04591"}),
        communes=frozenset({"VN.15.04591"}),
        named={("VN.15", key("Xã Trạm Tấu")): ("VN.15.04591",)},
    )
    assert resolve(reading, by_name).commune == "VN.15.04591"
    assert resolve(reading, FACTS).status is AddressStatus.UNRESOLVED


def test_an_address_mapped_to_a_unit_that_is_not_a_commune_is_unresolved() -> None:
    to_province = UnitFacts(current=frozenset({"VN.68"}), successors={"VN.68.672.24784": ("VN.68",)})
    outcome = resolve(read_address("Phường 1, Thành phố Đà Lạt, Lâm Đồng"), to_province)
    assert outcome.status is AddressStatus.UNRESOLVED and outcome.candidates == ("VN.68",)


def test_a_district_is_recognised_as_a_whole_part_of_the_address_only() -> None:
    assert key("Thành phố Đà Lạt") == "thanhphodalat"
    assert names_district("Phường 1, TP Đà Lạt, Lâm Đồng", "Thành phố Đà Lạt")
    assert names_district("P.1, Q.1, Hồ Chí Minh", "Quận 1")
    assert names_district("Xã Kim Chung, Hoài Đức, Hà Nội", "Huyện Hoài Đức")  # not read as "H. oài Đức"
    assert not names_district("Phường Xuân Hương - Đà Lạt, Lâm Đồng", "Thành phố Đà Lạt")
    assert not names_district("Xã Đức Trọng, Lâm Đồng", "Huyện Đức Trọng")


def test_readings_are_cached_by_the_address_with_its_spacing_normalised() -> None:
    first = read_address("Phường 3,  Thành phố Đà Lạt, Lâm Đồng")
    assert read_address(" Phường 3, Thành phố Đà Lạt,   Lâm Đồng ") is first
