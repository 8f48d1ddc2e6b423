"""Planning a reorganisation without a database: merge, dissolve a level, rename, split, and refusals with their location."""

import uuid

import pytest

from contracts.api.registry import DissolveLevel, MergeUnits, RenameUnit, SplitTarget, SplitUnit
from contracts.enums import UnitLevel
from registry.units.planner import PlanError, UnitState, plan


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
