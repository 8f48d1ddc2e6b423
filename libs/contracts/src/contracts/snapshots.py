"""JSON Schema snapshots of every event and public API model, and the compatibility rules between versions.

`make contracts` (python -m contracts.snapshots write) regenerates the committed files under
libs/contracts/schemas/ and refuses to overwrite a snapshot with a breaking change: a breaking
change needs a new schema version (a new file) instead. tests/contract fails on any difference
between the models and the committed files.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import contracts.api
from contracts.asyncapi import asyncapi_document
from contracts.events import ALL_EVENTS

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "schemas"


def api_models() -> list[type[BaseModel]]:
    """Every pydantic model defined in a module of contracts.api (generic bases excluded)."""
    models: list[type[BaseModel]] = []
    for module_info in pkgutil.iter_modules(contracts.api.__path__):
        module = importlib.import_module(f"contracts.api.{module_info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, BaseModel)
                and obj.__module__ == module.__name__
                and not obj.__pydantic_generic_metadata__["parameters"]
            ):
                models.append(obj)
    return sorted(models, key=lambda m: m.__name__)


def current_schemas() -> dict[str, dict[str, Any]]:
    """Relative file name -> schema, for every event version, API model, and the AsyncAPI document."""
    schemas: dict[str, dict[str, Any]] = {}
    for event in ALL_EVENTS:
        schemas[f"events/{event.event_type}.v{event.schema_version}.json"] = event.model_json_schema()
    for model in api_models():
        schemas[f"api/{model.__name__}.json"] = model.model_json_schema()
    schemas["asyncapi.json"] = asyncapi_document()
    return schemas


def committed_schemas(directory: Path = SNAPSHOT_DIR) -> dict[str, dict[str, Any]]:
    return {str(path.relative_to(directory)): json.loads(path.read_text()) for path in sorted(directory.rglob("*.json"))}


def _normalised_type(schema: dict[str, Any]) -> str:
    keys = ("type", "$ref", "anyOf", "allOf", "oneOf", "enum", "const", "items", "format")
    return json.dumps({k: schema[k] for k in keys if k in schema}, sort_keys=True)


def _object_breaks(old: dict[str, Any], new: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{where}: field {name!r} removed")
        elif _normalised_type(old_prop) != _normalised_type(new_props[name]):
            problems.append(f"{where}: field {name!r} changed type")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{where}: field {name!r} newly required")
    return problems


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Breaking differences between two schemas of one version: removed field, new required field, changed type."""
    if "asyncapi" in old:
        return []  # the AsyncAPI document is derived from the event schemas checked here
    problems = _object_breaks(old, new, "root")
    new_defs: dict[str, Any] = new.get("$defs", {})
    for name, old_def in old.get("$defs", {}).items():
        if name not in new_defs:
            problems.append(f"definition {name!r} removed")
        else:
            problems.extend(_object_breaks(old_def, new_defs[name], name))
    return problems


def write(directory: Path = SNAPSHOT_DIR) -> int:
    old = committed_schemas(directory) if directory.exists() else {}
    refused = False
    for name, schema in current_schemas().items():
        problems = breaking_changes(old[name], schema) if name in old else []
        if problems:
            refused = True
            print(f"refused {name}: breaking change within one schema version:", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
            print("  bump schema_version (new file) instead, or edit the snapshot by hand after review", file=sys.stderr)
            continue
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {name}")
    return 1 if refused else 0


if __name__ == "__main__":
    raise SystemExit(write())
