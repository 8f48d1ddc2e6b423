"""Every service's migrations build its models from empty, on SQLite and on PostgreSQL, with nothing left over."""

import pytest

from servicekit import migrations

SERVICES = ["registry", "scheduling", "clinical", "reporting", "gateway"]


@pytest.mark.parametrize("service", SERVICES)
def test_upgrade_from_empty_then_check(service: str, database_url: str) -> None:
    migrations.upgrade(service, database_url)
    migrations.check(service, database_url)  # raises if models and migrations differ
    migrations.upgrade(service, database_url)  # a second run is a no-op
