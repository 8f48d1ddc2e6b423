"""The test harness's principals (servicekit.testing.principals) are the gateway's: for every role template,
`principal_for` gives the kind, grants and permissions the gateway hands out."""

import pytest

from gateway.identity import ROLE_TEMPLATES, SeedRole
from servicekit.testing.principals import ROLES, principal_for


def test_the_harness_knows_every_role_of_the_gateway() -> None:
    assert sorted(ROLES) == sorted(ROLE_TEMPLATES)


@pytest.mark.parametrize("role", sorted(ROLE_TEMPLATES))
def test_the_harness_builds_each_role_as_the_gateway_does(role: str) -> None:
    units = ("VN.68",) if ROLE_TEMPLATES[role].scoped else ()
    kind, grants, permissions = SeedRole(role=role, unit=units[0] if units else None).expand()
    principal = principal_for(role, *units)
    assert (principal.kind, list(principal.grants), sorted(principal.permissions)) == (kind, grants, permissions)
