"""The production configuration, checked offline: Kubernetes schemas, the compose spec, and that every
setting the manifests pass is one the code reads (a renamed setting would otherwise fail only in production)."""

import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings

from clinical.settings import ClinicalSettings
from gateway.settings import GatewaySettings
from registry.settings import RegistrySettings
from reporting.settings import ReportingSettings
from scheduling.settings import SchedulingSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SETTINGS: dict[str, type[BaseSettings]] = {
    "REGISTRY": RegistrySettings,
    "SCHEDULING": SchedulingSettings,
    "CLINICAL": ClinicalSettings,
    "REPORTING": ReportingSettings,
    "GATEWAY": GatewaySettings,
}
CUSTOM_RESOURCE_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/")


def base_documents() -> list[tuple[Path, dict[str, object]]]:
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        path = K8S / "base" / resource
        documents += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def test_kubernetes_manifests_match_the_schemas() -> None:
    checked = 0
    for path, document in base_documents():
        if str(document["apiVersion"]).startswith(CUSTOM_RESOURCE_GROUPS):
            continue  # operator resources: no bundled schema
        try:
            kubernetes_validate.validate(document, "1.33", strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path.name}: {exc}")
        checked += 1
    assert checked >= 12


def test_overlays_point_at_the_base() -> None:
    for overlay in (K8S / "overlays").iterdir():
        kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
        assert kustomization["resources"] == ["../../base"], overlay


def test_compose_file_matches_the_compose_spec() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _env_names() -> set[str]:
    names = set(re.findall(r"\b([A-Z]+_[A-Z_]+):", (ROOT / "docker-compose.yml").read_text()))
    for _, document in base_documents():
        names |= set(re.findall(r"'name': '([A-Z]+_[A-Z_]+)'", str(document)))
    return {name for name in names if name.split("_", 1)[0] in SETTINGS}


@pytest.mark.parametrize("name", sorted(_env_names()))
def test_every_setting_the_manifests_pass_exists(name: str) -> None:
    prefix, field = name.split("_", 1)
    assert field.lower() in SETTINGS[prefix].model_fields, f"{name}: {SETTINGS[prefix].__name__} has no {field.lower()}"


def test_production_refuses_sqlite() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        RegistrySettings(environment="production")
