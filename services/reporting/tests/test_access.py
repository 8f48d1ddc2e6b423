"""`access.in_scope` counts exactly the rows that a READ or an AGGREGATE grant covers within the unit asked
for, whichever way the grants lie (on the unit, above it, below it, beside it, without tiers)."""

import itertools

import pytest
from reporting_testkit import ADMIN, CENTRAL, DALAT, LAMDONG
from sqlalchemy import Column, Integer, MetaData, String, Table, and_, create_engine, insert, or_, select

from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, Principal, PrincipalKind
from reporting.access import in_scope
from servicekit.scope import scope_filter, within_unit

UNITS = ["VN", "VN.68", "VN.68.672", "VN.68.673", "VN.6", "VN.52", "VN.52.540"]
rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("unit", String), Column("tier", String))
AGGREGATING_BELOW = Principal(
    subject="user:mixed",
    kind=PrincipalKind.STAFF,
    grants=(
        Grant(unit_path="VN.68.672", tiers=frozenset({ManagementTier.DISTRICT}), actions=frozenset({Action.AGGREGATE})),
        Grant(unit_path="VN.68", tiers=frozenset({ManagementTier.PROVINCIAL_1}), actions=frozenset({Action.READ})),
        Grant(unit_path="VN.52", tiers=frozenset(), actions=frozenset({Action.READ})),
        Grant(unit_path="VN", tiers=frozenset({ManagementTier.CENTRAL}), actions=frozenset({Action.WRITE})),
    ),
)
NOBODY = Principal(subject="user:none", kind=PrincipalKind.STAFF)


def in_read_or_aggregate_scope(principal: Principal, unit: str) -> object:
    """The definition: the rows of either grant kind, within the unit."""
    read = scope_filter(principal, Action.READ, rows.c.unit, rows.c.tier)
    aggregate = scope_filter(principal, Action.AGGREGATE, rows.c.unit, rows.c.tier)
    return and_(or_(read, aggregate), within_unit(rows.c.unit, unit))


@pytest.mark.parametrize("principal", [ADMIN, CENTRAL, LAMDONG, DALAT, AGGREGATING_BELOW, NOBODY], ids=lambda p: p.subject)
def test_in_scope_is_read_or_aggregate_within_the_unit(principal: Principal) -> None:
    engine = create_engine("sqlite://")
    rows.metadata.create_all(engine)
    with engine.begin() as connection:
        cells = itertools.product(UNITS, ManagementTier)
        connection.execute(insert(rows), [{"unit": u, "tier": t.value} for u, t in cells])
        for unit in UNITS:
            expected = set(connection.scalars(select(rows.c.id).where(in_read_or_aggregate_scope(principal, unit))))
            found = set(connection.scalars(select(rows.c.id).where(in_scope(principal, unit, rows.c.unit, rows.c.tier))))
            assert found == expected, unit
