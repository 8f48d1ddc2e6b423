"""Committed JSON Schema snapshots are the contract: any change must be regenerated (`make contracts`),
and a breaking change within one schema version is refused."""

import copy

import pytest

from contracts.events import ALL_EVENTS
from contracts.snapshots import SNAPSHOT_DIR, breaking_changes, committed_schemas, current_schemas


def test_snapshots_match_the_models() -> None:
    current = current_schemas()
    committed = committed_schemas()
    missing = sorted(set(current) - set(committed))
    stale = sorted(set(committed) - set(current))
    changed = sorted(name for name in set(current) & set(committed) if current[name] != committed[name])
    assert not (missing or stale or changed), (
        f"schemas differ from {SNAPSHOT_DIR}: new {missing}, removed {stale}, changed {changed}; run `make contracts`"
    )


def test_models_are_compatible_with_their_committed_versions() -> None:
    committed = committed_schemas()
    problems = {
        name: breaking_changes(committed[name], schema) for name, schema in current_schemas().items() if name in committed
    }
    assert not {name: p for name, p in problems.items() if p}


def test_a_removed_field_is_breaking() -> None:
    old = ALL_EVENTS[0].model_json_schema()
    new = copy.deepcopy(old)
    new["properties"].pop("cadre")
    assert any("removed" in p for p in breaking_changes(old, new))


def test_a_newly_required_field_is_breaking_but_a_new_optional_one_is_not() -> None:
    old = ALL_EVENTS[0].model_json_schema()
    optional = copy.deepcopy(old)
    optional["properties"]["note"] = {"type": "string"}
    assert breaking_changes(old, optional) == []
    required = copy.deepcopy(optional)
    required["required"] = [*required.get("required", []), "note"]
    assert any("newly required" in p for p in breaking_changes(old, required))


@pytest.mark.parametrize("definition", ["CadreSnapshot"])
def test_a_changed_type_inside_a_definition_is_breaking(definition: str) -> None:
    old = ALL_EVENTS[0].model_json_schema()
    new = copy.deepcopy(old)
    new["$defs"][definition]["properties"]["full_name"] = {"type": "integer"}
    assert any("changed type" in p for p in breaking_changes(old, new))
