"""Function-level rules the gateway enforces before forwarding: which permission a route needs.

The services check the same permissions again (and the rows' scope); the gateway refuses early so
that, e.g., a HIS client never reaches the cadre list or a report. First matching rule wins; a route
no rule names still needs some permission of its service.

The table is kept by hand, coarser than the services' own `permitted(Permission.X)` declarations
(which stay the authority); its tests check every rule names permissions of its own service only.
"""

import re
from dataclasses import dataclass

from contracts.permissions import Permission

READ_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANY_METHOD = READ_METHODS | WRITE_METHODS


@dataclass(frozen=True)
class RouteRule:
    service: str
    methods: frozenset[str]
    pattern: re.Pattern[str]
    any_of: frozenset[Permission]


def rule(service: str, methods: frozenset[str], pattern: str, *permissions: Permission) -> RouteRule:
    return RouteRule(service, methods, re.compile(pattern), frozenset(permissions))


RULES: tuple[RouteRule, ...] = (
    # registry: the cadre list and records are for board staff; a facility only looks a card up
    rule("registry", READ_METHODS, r"^cards?(/|$)", Permission.REGISTRY_CARDS_LOOKUP, Permission.REGISTRY_CADRES_READ),
    rule("registry", READ_METHODS, r"^cadres/(by-card|card)", Permission.REGISTRY_CARDS_LOOKUP, Permission.REGISTRY_CADRES_READ),
    rule("registry", READ_METHODS, r"^units(/|$)", Permission.REGISTRY_UNITS_READ),
    rule("registry", WRITE_METHODS, r"^(units|reorganisations?)(/|$)", Permission.REGISTRY_UNITS_WRITE),
    rule("registry", READ_METHODS, r"^(cadres|cadre-counts|cadre-duplicates|proposals)(/|$)", Permission.REGISTRY_CADRES_READ),
    rule("registry", WRITE_METHODS, r"^(cadres|proposals|transfers|imports?)(/|$)", Permission.REGISTRY_CADRES_WRITE),
    # reporting: aggregates and reports, never for a HIS client
    rule("reporting", ANY_METHOD, r"", Permission.REPORTING_READ, Permission.REPORTING_WRITE),
    # scheduling
    rule("scheduling", READ_METHODS, r"", Permission.SCHEDULING_READ),
    rule("scheduling", WRITE_METHODS, r"", Permission.SCHEDULING_WRITE),
    # clinical: a facility writes and reads back its own records
    rule("clinical", READ_METHODS, r"", Permission.CLINICAL_READ, Permission.CLINICAL_READ_OWN),
    rule("clinical", WRITE_METHODS, r"", Permission.CLINICAL_WRITE),
)


# A route no rule names: any permission of its service lets the request through.
SERVICE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    service: frozenset(p for p in Permission if p.service == service) for service in {p.service for p in Permission}
}


def required_permissions(service: str, method: str, path: str) -> frozenset[Permission] | None:
    """Any one of these permissions lets the request through; None: any permission of the service does."""
    for candidate in RULES:
        if candidate.service == service and method in candidate.methods and candidate.pattern.search(path):
            return candidate.any_of
    return None


def allowed(permissions: frozenset[str], service: str, method: str, path: str) -> bool:
    needed = required_permissions(service, method, path.lstrip("/"))
    if needed is None:
        needed = SERVICE_PERMISSIONS.get(service, frozenset())
    return not needed.isdisjoint(permissions)
