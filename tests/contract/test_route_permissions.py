"""The gateway's route table is what the services declare: the committed table
(contracts/route_permissions.json) must equal the one read off every service's routes (`make contracts`
regenerates it), and reading a route's permission must see every way a route can declare it."""

import re
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI

from contracts.permissions import Permission
from contracts.route_permissions import RoutePermission, committed_route_table, dump_route_table, parse_route_table
from contracts.scope import Principal, PrincipalKind
from servicekit.auth import permitted, permitted_any
from servicekit.errors import Forbidden
from servicekit.idempotency import ServiceRouter
from servicekit.route_permissions import route_permissions
from tests.contract.route_table import TABLE_PATH, declared_route_table

P = Permission


def test_the_committed_table_is_what_the_services_declare() -> None:
    declared, committed = declared_route_table(), committed_route_table()
    differing = sorted(s for s in set(declared) | set(committed) if declared.get(s) != committed.get(s))
    assert not differing, f"{TABLE_PATH} differs from the services' routes for {differing}; run `make contracts`"


def test_every_route_needs_permissions_of_its_own_service_only() -> None:
    for service, routes in committed_route_table().items():
        foreign = [(r.method, r.path, p) for r in routes for p in r.any_of if p.service != service]
        assert not foreign, (service, foreign)
    assert any(r.any_of == (P.REGISTRY_CARDS_LOOKUP,) for r in committed_route_table()["registry"])


def test_the_table_round_trips_through_its_file_text() -> None:
    table = committed_route_table()
    assert parse_route_table(dump_route_table(table)) == table
    assert TABLE_PATH.read_text(encoding="utf-8") == dump_route_table(table)


Reader = Annotated[Principal, Depends(permitted(P.REGISTRY_CADRES_READ))]
CardReader = Annotated[Principal, Depends(permitted_any(P.REGISTRY_CARDS_LOOKUP, P.REGISTRY_CADRES_READ))]


def toy_app() -> FastAPI:
    cadres = ServiceRouter()

    @cadres.get("/cadres/by-card/{number}")
    async def by_card(number: str, caller: CardReader) -> str:
        return number

    @cadres.api_route("/cadres/{cadre_id}", methods=["GET", "PATCH"])
    async def cadre(cadre_id: str, caller: Reader) -> str:
        return cadre_id

    @cadres.get("/open")
    async def unguarded() -> str:
        return "anyone"

    units = ServiceRouter(dependencies=[Depends(permitted(P.REGISTRY_UNITS_WRITE))])

    @units.post("/import")
    async def import_units() -> str:
        return "imported"

    outer = APIRouter()
    outer.include_router(units, prefix="/units")
    app = FastAPI()
    app.include_router(cadres)
    app.include_router(outer)
    return app


def test_route_permissions_reads_aliases_any_of_and_router_dependencies_in_matching_order() -> None:
    found = [r for r in route_permissions(toy_app()) if not r.path.startswith(("/docs", "/redoc"))]
    assert found == [
        RoutePermission(method="GET", path="/cadres/by-card/{number}", any_of=(P.REGISTRY_CARDS_LOOKUP, P.REGISTRY_CADRES_READ)),
        RoutePermission(method="GET", path="/cadres/{cadre_id}", any_of=(P.REGISTRY_CADRES_READ,)),
        RoutePermission(method="PATCH", path="/cadres/{cadre_id}", any_of=(P.REGISTRY_CADRES_READ,)),
        RoutePermission(method="GET", path="/open", any_of=()),
        RoutePermission(method="POST", path="/units/import", any_of=(P.REGISTRY_UNITS_WRITE,)),
    ]


def test_a_route_needing_two_separate_checks_cannot_be_described_and_is_refused() -> None:
    router = ServiceRouter(dependencies=[Depends(permitted(P.REGISTRY_UNITS_WRITE))])

    @router.get("/both")
    async def both(caller: Reader) -> str:
        return "both"

    app = FastAPI()
    app.include_router(router)
    with pytest.raises(ValueError, match="several permitted"):
        route_permissions(app)


def caller_with(*permissions: Permission) -> Principal:
    return Principal(subject="someone", kind=PrincipalKind.STAFF, permissions=frozenset(permissions))


async def test_permitted_any_lets_through_a_caller_holding_one_of_them() -> None:
    check = permitted_any(P.CLINICAL_READ, P.CLINICAL_READ_OWN)
    own_reader = caller_with(P.CLINICAL_READ_OWN)
    assert await check(own_reader) is own_reader
    with pytest.raises(Forbidden, match=re.escape("'clinical.read' or 'clinical.read_own'")):
        await check(caller_with(P.CLINICAL_WRITE))
    with pytest.raises(Forbidden, match=re.escape("lacks the permission 'clinical.read'") + "$"):
        await permitted(P.CLINICAL_READ)(own_reader)
    with pytest.raises(ValueError, match="at least one"):
        permitted_any()
