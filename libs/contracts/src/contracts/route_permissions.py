"""Which permission each service route needs, as the services themselves declare it.

Every route declares its permission through `servicekit.auth.permitted(...)`; the gateway, which
cannot import the services (separate deployables), refuses early from this table instead of a list
kept by hand. The table is generated, never edited: `make contracts` builds every service's app and
writes `route_permissions.json` next to this module (package data, so an installed gateway carries
it); tests/contract fails when the committed file differs from what the services declare.
"""

from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, TypeAdapter

from contracts.permissions import Permission

TABLE_FILE = "route_permissions.json"


class RoutePermission(BaseModel):
    """One method of one route of a service."""

    model_config = ConfigDict(frozen=True)

    method: str  # upper case, e.g. "GET"
    path: str  # the service's path template, e.g. "/cadres/{cadre_id}"
    any_of: tuple[Permission, ...]  # one of these lets the caller through; () when the route declares none


# service -> its routes, in the order the service matches them (the first route that fits a request wins)
RouteTable = dict[str, tuple[RoutePermission, ...]]

_TABLE = TypeAdapter(RouteTable)


def dump_route_table(table: RouteTable) -> str:
    """The committed file's text: services sorted by name, routes in matching order, one route a line."""
    lines = ["{"]
    services = sorted(table)
    for index, service in enumerate(services):
        lines.append(f'  "{service}": [')
        routes = table[service]
        for position, route in enumerate(routes):
            comma = "," if position < len(routes) - 1 else ""
            lines.append(f"    {route.model_dump_json()}{comma}")
        lines.append("  ]" + ("," if index < len(services) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def parse_route_table(text: str) -> RouteTable:
    return _TABLE.validate_json(text)


@cache
def committed_route_table() -> RouteTable:
    """The table as committed (and installed with contracts)."""
    return parse_route_table((resources.files("contracts") / TABLE_FILE).read_text(encoding="utf-8"))
