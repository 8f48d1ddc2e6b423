"""Production transport, checked over the manifests: every service reaches Kafka over TLS as its own
SCRAM user whose ACLs are exactly what its code produces and consumes, reaches PostgreSQL over verified
TLS, and only CadreCare's pods reach either."""

import importlib
import os
import re
import subprocess
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


# docker-compose.yml: the same transport on one host (Kafka and PostgreSQL over TLS, a SCRAM user per service,
# the KafkaUsers' ACLs), checked offline; the ACL and topic scripts run against stand-ins for Kafka's tools.
COMPOSE_DIR = ROOT / "deploy" / "compose"
SECRET = re.compile(r"\$\{([A-Z_]+)(?::\?[^}]*)?\}")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def environment(service: str) -> dict[str, str]:
    return {name: str(value) for name, value in compose()["services"][service].get("environment", {}).items()}


def broker_properties() -> dict[str, str]:
    lines = (COMPOSE_DIR / "kafka" / "server.properties").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def run_with_stand_in(script: str, tool: str, tmp_path: Path) -> list[list[str]]:
    """Run a compose script with `tool` replaced by one that records its arguments: one list per call."""
    record = tmp_path / "calls"
    stand_in = tmp_path / tool
    stand_in.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> {record}\necho --- >> {record}\n')
    stand_in.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "KAFKA_BIN": str(tmp_path)}
    subprocess.run(["sh", str(COMPOSE_DIR / "kafka" / script)], env=env, check=True)
    calls = record.read_text().split("---\n")[:-1]
    return [call.splitlines() for call in calls]


def options(call: list[str], name: str) -> list[str]:
    return [call[i + 1] for i, word in enumerate(call) if word == name]


def test_compose_broker_listens_to_other_containers_only_over_tls_with_scram() -> None:
    properties = broker_properties()
    protocols = dict(item.split(":") for item in properties["listener.security.protocol.map"].split(","))
    for listener in properties["listeners"].split(","):
        name, address = listener.split("://")
        assert protocols[name] == "SASL_SSL" or address.startswith("127.0.0.1:"), listener
    assert [item.split("://")[0] for item in properties["advertised.listeners"].split(",")] == ["CLIENT"]
    assert protocols["CLIENT"] == "SASL_SSL" and properties["advertised.listeners"] == "CLIENT://kafka:9092"
    assert properties["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert properties["ssl.keystore.type"] == "PEM" and properties["ssl.client.auth"] == "none"
    assert properties["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    # ANONYMOUS is only ever the loopback controller listener's principal (checked above)
    assert set(properties["super.users"].split(";")) == {"User:admin", "User:ANONYMOUS"}
    assert properties["auto.create.topics.enable"] == "false"
    kafka = compose()["services"]["kafka"]
    assert "ports" not in kafka and kafka["networks"] == ["data"]
    assert "tls-kafka:/etc/kafka/tls:ro" in kafka["volumes"]
    assert properties["ssl.keystore.location"].startswith("/etc/kafka/tls/")


@pytest.mark.parametrize("service", SERVICES)
def test_each_compose_service_runs_in_production_as_its_own_kafka_user(
    service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env, prefix = environment(service), service.upper()
    assert env[f"{prefix}_ENVIRONMENT"] == "production"
    assert env[f"{prefix}_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env[f"{prefix}_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert env[f"{prefix}_KAFKA_SASL_USERNAME"] == service
    password = SECRET.fullmatch(env[f"{prefix}_KAFKA_SASL_PASSWORD"])
    assert password is not None and password[1] == f"KAFKA_{prefix}_PASSWORD"
    assert env[f"{prefix}_KAFKA_SSL_CAFILE"] == env["PGSSLROOTCERT"] == "/certs/ca.crt"
    assert env[f"{prefix}_KAFKA_CREATE_TOPICS"] == "false"
    assert "tls-public:/certs:ro" in compose()["services"][service]["volumes"]
    for consumer in consumers_of(service, tmp_path):  # its groups are those its group ACL names
        assert (env[f"{prefix}_CONSUMER_GROUP_PREFIX"] + consumer.name).startswith(f"cadrecare-{service}-")
    # the broker formats this user with the very password the service is given
    start = (COMPOSE_DIR / "kafka" / "start.sh").read_text()
    assert f"[name={service},password=$KAFKA_{prefix}_PASSWORD]" in start
    assert f"KAFKA_{prefix}_PASSWORD" in environment("kafka")
    # and the service's own settings accept it as production (TLS to both, a user)
    for name, value in env.items():
        monkeypatch.setenv(name, SECRET.sub("secret", value))
    settings_module = importlib.import_module(f"{service}.settings")
    settings_class = next(v for k, v in vars(settings_module).items() if k.endswith("Settings") and k != "ServiceSettings")
    settings = settings_class()
    assert settings.environment == "production" and settings.kafka_sasl_password.get_secret_value() == "secret"


def test_every_compose_database_url_verifies_postgres_tls() -> None:
    services = compose()["services"]
    urls = {(name, key): value for name in services for key, value in environment(name).items() if key.endswith("_DATABASE_URL")}
    assert len(urls) == 10  # five services, and the migrate step's five
    for (name, key), url in urls.items():
        database = key.split("_")[0].lower()
        assert url == f"postgresql+asyncpg://cadrecare:${{POSTGRES_PASSWORD}}@postgres:5432/{database}?ssl=verify-full"
        assert environment(name)["PGSSLROOTCERT"] == "/certs/ca.crt" and "tls-public:/certs:ro" in services[name]["volumes"]
    command = services["postgres"]["command"]
    assert {"ssl=on", "ssl_cert_file=/etc/postgresql/tls/tls.crt", "ssl_key_file=/etc/postgresql/tls/tls.key"} <= set(command)
    hba = [line.split() for line in (COMPOSE_DIR / "postgres" / "pg_hba.conf").read_text().splitlines() if line[:1].isalpha()]
    assert [rule[0] for rule in hba if rule[0] != "local"] == ["hostssl", "hostnossl"] and hba[-1][-1] == "reject"


def test_only_the_gateway_publishes_a_port_and_the_data_network_is_internal() -> None:
    spec = compose()
    services = spec["services"]
    assert [name for name, service in services.items() if "ports" in service] == ["gateway"]
    assert spec["networks"]["data"]["internal"] is True
    assert [name for name, service in services.items() if "front" in service.get("networks", [])] == ["gateway"]
    for name in ("kafka", "postgres"):
        assert services[name]["networks"] == ["data"]
    for name in ("tls", "keys"):
        assert services[name]["network_mode"] == "none"
    # the CA's key is mounted by the step that makes it, and nowhere else
    mounts = {name: [str(volume).split(":")[0] for volume in service.get("volumes", [])] for name, service in services.items()}
    assert [name for name, volumes in mounts.items() if "tls-authority" in volumes] == ["tls"]


def test_compose_acls_are_the_kafka_user_acls(tmp_path: Path) -> None:
    users = {doc["metadata"]["name"]: acls_of(doc) for doc in documents("kafka-access.yaml") if doc["kind"] == "KafkaUser"}
    granted: dict[str, set[tuple[str, str, str, str]]] = {}
    for call in run_with_stand_in("acls.sh", "kafka-acls.sh", tmp_path):
        assert "--add" in call and options(call, "--bootstrap-server") == ["kafka:9092"]
        assert options(call, "--command-config") == ["/etc/kafka/cadrecare/admin.properties"]
        [principal] = options(call, "--allow-principal")
        [pattern] = options(call, "--resource-pattern-type")
        pattern = {"literal": "literal", "prefixed": "prefix"}[pattern]
        resources = [("topic", n) for n in options(call, "--topic")] + [("group", n) for n in options(call, "--group")]
        granted.setdefault(principal.removeprefix("User:"), set()).update(
            (kind, name, pattern, op) for kind, name in resources for op in options(call, "--operation")
        )
    assert granted == users


def test_compose_topics_are_the_kafka_topics(tmp_path: Path) -> None:
    declared = {doc["spec"]["topicName"]: doc["spec"] for doc in documents("kafka-access.yaml") if doc["kind"] == "KafkaTopic"}
    calls = run_with_stand_in("topics.sh", "kafka-topics.sh", tmp_path)
    assert sorted(name for call in calls for name in options(call, "--topic")) == sorted(declared)
    for call in calls:
        [name] = options(call, "--topic")
        assert {"--create", "--if-not-exists"} <= set(call)
        assert options(call, "--partitions") == [str(declared[name]["partitions"])]
        assert options(call, "--config") == [f"retention.ms={declared[name]['config']['retention.ms']}"]
