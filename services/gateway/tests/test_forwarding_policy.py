"""The function-level route table the gateway enforces before forwarding (gateway.forwarding.policy),
derived from the services' own declarations (contracts.route_permissions)."""

from contracts import roles
from contracts.permissions import Permission
from contracts.route_permissions import RoutePermission, RouteTable, committed_route_table
from gateway.forwarding.policy import SERVICE_PERMISSIONS, allowed, compile_rules, matching_rule, required_permissions, rules


def test_function_level_rules() -> None:
    his, staff = roles.HIS_PERMISSIONS, roles.STAFF_PERMISSIONS
    assert not allowed(his, "registry", "GET", "cadres")  # a HIS client cannot list cadres
    assert not allowed(his, "registry", "GET", "cadres/8d1c")
    assert not allowed(his, "reporting", "GET", "reports/board")  # nor read reports
    assert allowed(his, "registry", "GET", "cards/LD-123")
    assert allowed(his, "clinical", "POST", "his/records")
    assert allowed(his, "clinical", "GET", "his/records/lookup")  # a facility reads back what it posted
    assert not allowed(his, "clinical", "GET", "records/8d1c")  # but not a record by id
    assert not allowed(his, "scheduling", "GET", "plans")
    assert allowed(staff, "registry", "GET", "cadres")
    assert not allowed(staff, "registry", "POST", "units/import")
    assert not allowed(roles.AUDITOR_PERMISSIONS, "registry", "GET", "units")
    assert allowed(roles.AGGREGATION_JOB_PERMISSIONS, "reporting", "GET", "aggregation/national")
    assert not allowed(roles.AGGREGATION_JOB_PERMISSIONS, "clinical", "GET", "cadres/x/timeline")
    assert not allowed(frozenset(), "newservice", "GET", "anything")


def test_a_request_is_judged_by_the_route_the_service_would_pick() -> None:
    def needs(method: str, path: str) -> set[str] | None:
        found = required_permissions("registry", method, path)
        return None if found is None else {str(p) for p in found}

    assert needs("GET", "cadres/8d1c/history") == {"registry.cadres.read"}
    assert needs("PATCH", "/cadres/8d1c") == {"registry.cadres.write"}
    assert needs("POST", "proposals/8d1c/approval") == {"registry.proposals.approve"}
    assert needs("GET", "cadres/") == {"registry.cadres.read"}  # the service redirects it to /cadres
    assert needs("GET", "cadres/8d1c/history/extra") is None  # no such route


def test_an_unknown_route_or_one_declaring_nothing_needs_some_permission_of_its_service() -> None:
    assert required_permissions("registry", "DELETE", "cadres/8d1c") is None  # no DELETE route: the service answers
    assert required_permissions("registry", "GET", "healthz") is None  # declares no permission
    assert allowed(frozenset({Permission.REGISTRY_CARDS_LOOKUP}), "registry", "GET", "healthz")
    assert not allowed(frozenset({Permission.CLINICAL_READ}), "registry", "GET", "healthz")


def test_the_first_fitting_route_wins_and_any_of_its_permissions_suffices() -> None:
    table: RouteTable = {
        "registry": (
            RoutePermission(method="GET", path="/cadres/by-card", any_of=(Permission.REGISTRY_CARDS_LOOKUP,)),
            RoutePermission(
                method="GET",
                path="/cadres/{cadre_id}",
                any_of=(Permission.REGISTRY_CADRES_READ, Permission.REGISTRY_CADRES_WRITE),
            ),
        )
    }
    compiled = compile_rules(table)["registry"]
    first = matching_rule(compiled, "GET", "cadres/by-card")
    assert first is not None and first.any_of == frozenset({Permission.REGISTRY_CARDS_LOOKUP})
    second = matching_rule(compiled, "GET", "cadres/8d1c")
    assert second is not None and second.any_of == {Permission.REGISTRY_CADRES_READ, Permission.REGISTRY_CADRES_WRITE}
    assert matching_rule(compiled, "POST", "cadres/8d1c") is None


def test_the_rules_are_the_committed_table_and_name_permissions_of_their_own_service() -> None:
    table = committed_route_table()
    assert set(rules()) == set(table) == {"registry", "scheduling", "clinical", "reporting"}
    for service, service_rules in rules().items():
        assert [(r.method, r.template) for r in service_rules] == [(r.method, r.path) for r in table[service]]
        assert all(p.service == service for rule in service_rules for p in rule.any_of), service
    assert SERVICE_PERMISSIONS["clinical"] == {p for p in Permission if p.value.startswith("clinical.")}
