"""Read each route's required permission off the route itself: the permitted() dependencies among its
dependencies (its parameters' typed aliases, its router's and its decorator's `dependencies=`).

This is what the gateway's route table (contracts.route_permissions) is generated from, so the
services' own declarations stay the only place a route's permission is written.
"""

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from contracts.permissions import Permission
from contracts.route_permissions import RoutePermission
from servicekit.auth import permissions_of


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def required_permissions(dependant: Dependant) -> tuple[Permission, ...]:
    """Any one of these lets a caller through; () when no permitted() dependency guards the route.

    A route guarded by two permitted() dependencies needs both; the table can only say "any of", so
    such a route is refused as a declaration error rather than described wrongly.
    """
    declared = [permissions for d in _dependencies(dependant) if (permissions := permissions_of(d.call))]
    distinct = list(dict.fromkeys(declared))
    if len(distinct) > 1:
        raise ValueError(f"a route needs several permitted() checks at once: {distinct}; declare one permitted_any")
    return distinct[0] if distinct else ()


def route_permissions(app: FastAPI) -> tuple[RoutePermission, ...]:
    """Every API route of `app`, one entry per method, in the order the app matches them."""
    found: list[RoutePermission] = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue  # documents, metrics, static files: not the API the gateway forwards to
        dependant = getattr(context, "dependant", None)  # the route as included: router dependencies too
        if not isinstance(dependant, Dependant):
            raise TypeError(f"route {context.path} has no dependency tree to read its permission from")
        any_of = required_permissions(dependant)
        path = str(context.path)
        found.extend(RoutePermission(method=method, path=path, any_of=any_of) for method in sorted(context.methods or ()))
    return tuple(found)
