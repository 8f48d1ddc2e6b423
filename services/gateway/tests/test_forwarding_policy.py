"""The function-level route table the gateway enforces before forwarding (gateway.forwarding.policy)."""

from contracts.permissions import Permission
from gateway import roles
from gateway.forwarding.policy import RULES, SERVICE_PERMISSIONS, allowed


def test_function_level_rules() -> None:
    his, staff = roles.HIS_PERMISSIONS, roles.STAFF_PERMISSIONS
    assert not allowed(his, "registry", "GET", "cadres")  # a HIS client cannot list cadres
    assert not allowed(his, "registry", "GET", "cadres/8d1c")
    assert not allowed(his, "reporting", "GET", "reports/board")  # nor read reports
    assert allowed(his, "registry", "GET", "cards/LD-123")
    assert allowed(his, "clinical", "POST", "his/records")
    assert not allowed(his, "scheduling", "GET", "plans")
    assert allowed(staff, "registry", "GET", "cadres")
    assert not allowed(staff, "registry", "POST", "units/import")
    assert not allowed(roles.AUDITOR_PERMISSIONS, "registry", "GET", "units")
    assert allowed(roles.AGGREGATION_JOB_PERMISSIONS, "reporting", "GET", "aggregation/national")
    assert not allowed(roles.AGGREGATION_JOB_PERMISSIONS, "clinical", "GET", "cadres/x/timeline")
    assert not allowed(frozenset(), "newservice", "GET", "anything")


def test_every_rule_names_permissions_of_its_own_service() -> None:
    for rule in RULES:
        assert rule.any_of and all(p.service == rule.service for p in rule.any_of), rule
    assert SERVICE_PERMISSIONS["clinical"] == {p for p in Permission if p.value.startswith("clinical.")}
