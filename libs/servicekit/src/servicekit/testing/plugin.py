"""pytest plugin (registered by servicekit's entry point): fixtures for real PostgreSQL, SQLite and the broker.

`database_url` is parametrised over both backends: a test that takes it runs on SQLite and on
PostgreSQL, each time on a fresh, empty database.
"""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contracts.scope import Principal
from servicekit.auth import InternalTokenSigner
from servicekit.embedded import PostgresCluster, TansuBroker
from servicekit.keys import ensure_keypair


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


def fresh_postgres_url(cluster: PostgresCluster) -> str:
    return cluster.create_database(f"test_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return fresh_postgres_url(cluster)


@pytest.fixture
def kafka_broker() -> Iterator[TansuBroker]:
    """A broker of the test's own (it starts in well under a second): no topic is shared between tests."""
    broker = TansuBroker().start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def internal_keys(tmp_path: Path) -> tuple[bytes, Path]:
    """A fresh internal key pair, as the gateway would make: (private PEM, public key file)."""
    private, public = tmp_path / "keys" / "internal-private.pem", tmp_path / "keys" / "internal-public.pem"
    ensure_keypair(private, public)
    return private.read_bytes(), public


@pytest.fixture
def sign_as(internal_keys: tuple[bytes, Path]) -> Callable[[Principal], dict[str, str]]:
    """Headers carrying an internal token for a principal, signed as the gateway signs them."""
    signer = InternalTokenSigner(internal_keys[0])

    def headers(principal: Principal) -> dict[str, str]:
        return {"authorization": f"Bearer {signer.sign(principal)}"}

    return headers
