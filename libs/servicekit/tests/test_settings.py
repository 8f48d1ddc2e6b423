"""Settings refuse an unprotected production: PostgreSQL without TLS, a plaintext or anonymous bus."""

import pytest
from pydantic import ValidationError

from servicekit.broker import BrokerSecurity
from servicekit.settings import ServiceSettings

SAFE = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://cadrecare:secret@db:5432/registry?ssl=verify-full",
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_username": "registry",
    "kafka_sasl_password": "s3cret",
}


def test_a_protected_production_is_accepted() -> None:
    settings = ServiceSettings(**SAFE)
    assert settings.kafka_sasl_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)  # a secret never lands in a log line


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"database_url": "sqlite+aiosqlite:///x.db"}, "not SQLite"),
        ({"database_url": "postgresql+asyncpg://cadrecare:secret@db:5432/registry"}, "TLS to PostgreSQL"),
        ({"kafka_security_protocol": "PLAINTEXT"}, "SASL_SSL"),
        ({"kafka_sasl_password": ""}, "kafka_sasl_password"),
    ],
)
def test_an_unprotected_production_is_refused(change: dict[str, str], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        ServiceSettings(**{**SAFE, **change})


def test_development_stays_plaintext_on_the_embedded_broker() -> None:
    assert ServiceSettings().kafka_security_protocol == "PLAINTEXT"
    assert BrokerSecurity().client_options() == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_gives_every_client_tls_and_the_scram_user() -> None:
    options = BrokerSecurity(protocol="SASL_SSL", username="registry", password="p").client_options()
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "registry" and options["ssl_context"] is not None
