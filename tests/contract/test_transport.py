"""Production transport, checked over the manifests: every service reaches Kafka over TLS as its own
SCRAM user whose ACLs are exactly what its code produces and consumes, reaches PostgreSQL over verified
TLS, and only CadreCare's pods reach either."""

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.topics import ALL_TOPICS
from servicekit.consumer import EventConsumer
from servicekit.runtime import build_runtime

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s" / "base"
SERVICES = ("registry", "scheduling", "clinical", "reporting", "gateway")


def documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((BASE / name).read_text()) if doc]


def consumers_of(service: str, tmp_path: Path) -> list[EventConsumer]:
    """The service's own consumers, built as its app builds them (nothing connects)."""
    settings_module = importlib.import_module(f"{service}.settings")
    settings_class = next(v for k, v in vars(settings_module).items() if k.endswith("Settings") and k != "ServiceSettings")
    runtime = build_runtime(settings_class(data_dir=tmp_path), importlib.import_module(f"{service}.tables").metadata)
    projections = importlib.import_module(f"{service}.projections") if service != "registry" else None
    if projections is None:
        return []
    if service == "gateway":
        return list(projections.consumers(runtime, None))
    return list(projections.consumers(runtime))


def acls_of(user: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {
        (acl["resource"]["type"], acl["resource"]["name"], acl["resource"].get("patternType", "literal"), operation)
        for acl in user["spec"]["authorization"]["acls"]
        for operation in acl["operations"]
    }


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_user_may_write_what_it_produces_and_read_what_it_consumes(service: str, tmp_path: Path) -> None:
    users = {doc["metadata"]["name"]: doc for doc in documents("kafka-access.yaml") if doc["kind"] == "KafkaUser"}
    consumed = sorted({topic for consumer in consumers_of(service, tmp_path) for topic in consumer.topics})
    produced = [topic.name for topic in ALL_TOPICS if topic.producer == service]
    expected = {("topic", name, "literal", op) for name in produced for op in ("Write", "Describe")}
    expected |= {("topic", name, "literal", op) for name in consumed for op in ("Read", "Describe")}
    expected |= {("topic", f"{name}.dlq", "literal", op) for name in consumed for op in ("Write", "Describe")}
    if consumed:
        expected |= {("group", f"cadrecare-{service}-", "prefix", op) for op in ("Read", "Describe")}
    user = users[service]
    assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
    assert acls_of(user) == expected


def test_every_topic_and_dead_letter_topic_is_declared() -> None:
    declared = {doc["spec"]["topicName"] for doc in documents("kafka-access.yaml") if doc["kind"] == "KafkaTopic"}
    users = [doc for doc in documents("kafka-access.yaml") if doc["kind"] == "KafkaUser"]
    read = {name for user in users for kind, name, _, op in acls_of(user) if kind == "topic" and op == "Read"}
    assert declared == {topic.name for topic in ALL_TOPICS} | {f"{name}.dlq" for name in read}


def test_kafka_has_one_listener_with_tls_and_scram_open_only_to_cadrecare() -> None:
    [kafka] = [doc for doc in documents("kafka.yaml") if doc["kind"] == "Kafka"]
    [listener] = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True and listener["authentication"] == {"type": "scram-sha-512"}
    assert listener["networkPolicyPeers"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "cadrecare"}}}]
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple"}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_connects_as_itself_over_tls(service: str) -> None:
    [deployment] = [doc for doc in documents(f"{service}.yaml") if doc["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    prefix = service.upper()
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        env = {item["name"]: item for item in container["env"]}
        assert env[f"{prefix}_DATABASE_URL"]["value"].endswith("?ssl=verify-full"), container["name"]
        assert env["PGSSLROOTCERT"]["value"] == "/certs/postgres/ca.crt"
        assert {"name": "certs", "mountPath": "/certs", "readOnly": True} in container["volumeMounts"]
        if f"{prefix}_KAFKA_BOOTSTRAP" not in env:
            continue  # a migration step that never touches the bus
        assert env[f"{prefix}_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
        assert env[f"{prefix}_KAFKA_SASL_USERNAME"]["value"] == service
        assert env[f"{prefix}_KAFKA_SASL_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": service, "key": "password"}}
        assert env[f"{prefix}_KAFKA_SSL_CAFILE"]["value"] == "/certs/kafka/ca.crt"
        assert env[f"{prefix}_KAFKA_CREATE_TOPICS"]["value"] == "false"


def test_postgres_answers_only_cadrecare_its_replicas_and_its_operator() -> None:
    policies = {doc["metadata"]["name"]: doc for doc in documents("network-policy.yaml")}
    postgres = policies["postgres-only-from-cadrecare"]["spec"]
    assert postgres["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "cadrecare-postgres"}}
    [services, replicas, operator] = postgres["ingress"]
    names = services["from"][0]["podSelector"]["matchExpressions"][0]["values"]
    assert sorted(names) == sorted(SERVICES) and services["ports"] == [{"port": 5432}]
    assert replicas["from"] == [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "cadrecare-postgres"}}}]
    assert operator["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "cnpg-system"}
