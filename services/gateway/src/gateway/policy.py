"""Function-level rules the gateway enforces before forwarding: which permission a route needs.

The services check the same permissions again (and the rows' scope); the gateway refuses early so
that, e.g., a HIS client never reaches the cadre list or a report. First matching rule wins; a route
no rule names still needs some permission of its service.
"""

import re
from dataclasses import dataclass

READ_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANY_METHOD = READ_METHODS | WRITE_METHODS


@dataclass(frozen=True)
class RouteRule:
    service: str
    methods: frozenset[str]
    pattern: re.Pattern[str]
    any_of: frozenset[str]


def rule(service: str, methods: frozenset[str], pattern: str, *permissions: str) -> RouteRule:
    return RouteRule(service, methods, re.compile(pattern), frozenset(permissions))


RULES: tuple[RouteRule, ...] = (
    # registry: the cadre list and records are for board staff; a facility only looks a card up
    rule("registry", READ_METHODS, r"^cards?(/|$)", "registry.cards.lookup", "registry.cadres.read"),
    rule("registry", READ_METHODS, r"^cadres/(by-card|card)", "registry.cards.lookup", "registry.cadres.read"),
    rule("registry", READ_METHODS, r"^units(/|$)", "registry.units.read"),
    rule("registry", WRITE_METHODS, r"^(units|reorganisations?)(/|$)", "registry.units.write"),
    rule("registry", READ_METHODS, r"^(cadres|cadre-counts|cadre-duplicates|proposals)(/|$)", "registry.cadres.read"),
    rule("registry", WRITE_METHODS, r"^(cadres|proposals|transfers|imports?)(/|$)", "registry.cadres.write"),
    # reporting: aggregates and reports, never for a HIS client
    rule("reporting", ANY_METHOD, r"", "reporting.read", "reporting.write"),
    # scheduling
    rule("scheduling", READ_METHODS, r"", "scheduling.read"),
    rule("scheduling", WRITE_METHODS, r"", "scheduling.write"),
    # clinical: a facility writes and reads back its own records
    rule("clinical", READ_METHODS, r"", "clinical.read", "clinical.read_own"),
    rule("clinical", WRITE_METHODS, r"", "clinical.write"),
)


def required_permissions(service: str, method: str, path: str) -> frozenset[str] | None:
    """Any one of these permissions lets the request through; None: any permission of the service does."""
    for candidate in RULES:
        if candidate.service == service and method in candidate.methods and candidate.pattern.search(path):
            return candidate.any_of
    return None


def allowed(permissions: frozenset[str], service: str, method: str, path: str) -> bool:
    needed = required_permissions(service, method, path.lstrip("/"))
    if needed is None:
        return any(p.startswith(f"{service}.") for p in permissions)
    return bool(needed & permissions)


# Query parameters that size a page, and the JSON bodies that carry a batch.
PAGE_PARAMETERS = ("limit", "page_size", "size")
