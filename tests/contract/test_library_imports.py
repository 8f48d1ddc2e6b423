"""Libraries never import services: a service depends on libs/, never the other way round, so a library can
be installed, tested and changed without a service (devstack starts services as processes and loads its demo
through the public API and its own data files)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PACKAGES = frozenset(init.parent.name for init in ROOT.glob("services/*/src/*/__init__.py"))
IMPORTERS = frozenset({"import_module", "__import__"})  # importlib.import_module("registry.x") counts too


def library_modules() -> list[Path]:
    return sorted(path for path in ROOT.glob("libs/**/*.py") if not {"build", ".venv", "__pycache__"} & set(path.parts))


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in `source`, and of every import by a literal name."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in IMPORTERS and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def service_imports(source: str) -> list[str]:
    return [f"line {line}: {module}" for line, module in imported_modules(source) if module.split(".")[0] in SERVICE_PACKAGES]


def test_the_services_are_found() -> None:
    assert {"registry", "scheduling", "clinical", "reporting", "gateway"} <= SERVICE_PACKAGES


@pytest.mark.parametrize(
    "source",
    [
        "import gateway.roles",
        "from registry.data import lam_dong_2025",
        "def seed():\n    from clinical import app",
        "import importlib\nimportlib.import_module('reporting.app')",
        "__import__('scheduling')",
    ],
)
def test_a_service_import_is_caught(source: str) -> None:
    assert service_imports(source), source


def test_library_modules_and_service_names_are_told_apart() -> None:
    source = "import registry_helpers\nfrom contracts.scope import Grant\nfrom . import gateway\nname = 'gateway.app:create_app'"
    assert service_imports(source) == []


def test_no_library_imports_a_service() -> None:
    modules = library_modules()
    assert len(modules) > 20  # the libraries were found
    offending = {
        str(path.relative_to(ROOT)): imports for path in modules if (imports := service_imports(path.read_text(encoding="utf-8")))
    }
    assert offending == {}
