"""Planning a reorganisation without a database: merge, dissolve a level, rename, split, and refusals with their location."""

import uuid
from datetime import date

import pytest

from contracts.api.registry import DissolveLevel, MergeUnits, RenameUnit, SplitTarget, SplitUnit
from contracts.enums import ManagementTier, UnitLevel
from registry.domain import DEFAULT_TIER_RULES
from registry.units.planner import CadreState, Outcome, Outcomes, PlanError, UnitState, plan


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


# -- re-tiering a dissolved level's cadres (registry.units.planner.Outcomes) -----------------------------------

REFORM = date(2025, 7, 1)


def _outcomes(retier: dict[str, dict[str, str]]) -> Outcomes:
    merged = plan(
        TREE,
        [
            MergeUnits(sources=["VN.68", "VN.67", "VN.60"], target="VN.68", target_name="Tỉnh Lâm Đồng"),
            DissolveLevel.model_validate({"under": "VN.68", "level": "district", "retier": retier}),
        ],
    )
    return Outcomes(merged, DEFAULT_TIER_RULES, REFORM)


def _cadre(tier: ManagementTier, unit: str, residence: str | None = None) -> CadreState:
    return CadreState(uuid.uuid4(), tier, unit, residence)


def test_a_dissolved_districts_cadres_take_the_tier_and_board_the_mapping_names() -> None:
    to_group_3 = _outcomes({"district": {"tier": "provincial_3"}})
    cadre = _cadre(ManagementTier.DISTRICT, "VN.67.660")
    assert to_group_3.of(cadre, "VN.68") == (Outcome(cadre.id, "VN.68", ManagementTier.PROVINCIAL_3), None)
    provincial = _cadre(ManagementTier.PROVINCIAL_2, "VN.67")  # not of the dissolved level: only moved
    assert to_group_3.of(provincial, "VN.68") == (Outcome(provincial.id, "VN.68", ManagementTier.PROVINCIAL_2), None)

    to_residence = _outcomes({"district": {"tier": "commune", "unit": "residence"}})
    resident = _cadre(ManagementTier.DISTRICT, "VN.68.672", residence="VN.68.672.24775")  # the old ward's path
    assert to_residence.of(resident, "VN.68") == (Outcome(resident.id, "VN.68.24775", ManagementTier.COMMUNE), None)
    in_the_ward = _cadre(ManagementTier.DISTRICT, "VN.68.672.24775", residence="VN.68.24775")  # the new path too
    assert to_residence.of(in_the_ward, "VN.68.24775")[0] == Outcome(in_the_ward.id, "VN.68.24775", ManagementTier.COMMUNE)

    to_one_commune = _outcomes({"district": {"tier": "commune", "unit": "VN.68.24775"}})
    assert to_one_commune.of(cadre, "VN.68")[0] == Outcome(cadre.id, "VN.68.24775", ManagementTier.COMMUNE)


def test_a_cadre_left_without_a_board_that_may_manage_it_is_named() -> None:
    unmapped = _outcomes({})
    orphan = _cadre(ManagementTier.DISTRICT, "VN.68.672")
    outcome, problem = unmapped.of(orphan, "VN.68")
    assert outcome is None and problem is not None
    assert "a province board in VN.68 does not manage tier 'district' on 2025-07-01" in problem

    wrong_level = _outcomes({"district": {"tier": "commune"}})  # the commune tier, left at the province
    assert "does not manage tier 'commune'" in str(wrong_level.of(orphan, "VN.68")[1])

    by_residence = _outcomes({"district": {"tier": "commune", "unit": "residence"}})
    assert by_residence.of(orphan, "VN.68") == (None, "no residence unit to be managed by")
    abroad = _cadre(ManagementTier.DISTRICT, "VN.68.672", residence="VN.56.568")
    assert "outside 'VN.68'" in str(by_residence.of(abroad, "VN.68")[1])
    nowhere = _outcomes({"district": {"tier": "commune", "unit": "VN.68.99999"}})
    assert "no current unit" in str(nowhere.of(orphan, "VN.68")[1])
