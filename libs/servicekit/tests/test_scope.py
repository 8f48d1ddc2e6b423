"""The scope statements: the SQL filter and the Python check give the same answers over random grants
and unit trees (property test), board-level writes need unit and tier, and a central-tier cadre's health
records need a grant with the central-tier health flag."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, Principal, PrincipalKind
from servicekit.scope import (
    administers_board,
    board_tiers,
    health_records_readable,
    may,
    may_read_health_records,
    readable,
    scope_filter,
    sees_board,
    writable,
)

metadata = MetaData()
rows = Table(
    "rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit", String(100)),
    Column("tier", String(30)),
)
ENGINE = create_engine("sqlite://")
metadata.create_all(ENGINE)

# A small tree with the traps of a prefix test: VN.6 is not below VN.68, VN.68_1 must not match a LIKE.
UNITS = ["VN", "VN.6", "VN.68", "VN.68.672", "VN.68.673", "VN.68_1", "VN.681", "VN.68.672.24001", "VN.79", "VN.79.760"]
TIERS = list(ManagementTier)

grants = st.builds(
    Grant,
    unit_path=st.sampled_from(UNITS),
    tiers=st.frozensets(st.sampled_from(TIERS)),
    actions=st.frozensets(st.sampled_from(list(Action)), min_size=1),
    central_tier_health_records=st.booleans(),
)
principals = st.builds(
    Principal, subject=st.just("user:p"), kind=st.just(PrincipalKind.STAFF), grants=st.lists(grants, max_size=4).map(tuple)
)
cadre_rows = st.lists(st.tuples(st.sampled_from(UNITS), st.sampled_from(TIERS)), min_size=1, max_size=25)


@settings(max_examples=150, deadline=None)
@given(principal=principals, data=cadre_rows, action=st.sampled_from(list(Action)))
def test_the_sql_filter_and_the_python_check_agree(
    principal: Principal, data: list[tuple[str, ManagementTier]], action: Action
) -> None:
    with ENGINE.begin() as connection:
        connection.execute(rows.delete())
        connection.execute(insert(rows), [{"id": i, "unit": u, "tier": t.value} for i, (u, t) in enumerate(data)])
        selected = set(connection.scalars(select(rows.c.id).where(scope_filter(principal, action, rows.c.unit, rows.c.tier))))
    expected = {i for i, (unit, tier) in enumerate(data) if may(principal, action, unit, tier)}
    assert selected == expected


def test_readable_and_writable_are_the_read_and_write_filters() -> None:
    reader = Principal(
        subject="user:r",
        kind=PrincipalKind.STAFF,
        grants=(Grant(unit_path="VN.68", tiers=frozenset({ManagementTier.DISTRICT}), actions=frozenset({Action.READ})),),
    )
    with ENGINE.begin() as connection:
        connection.execute(rows.delete())
        connection.execute(insert(rows), [{"id": 1, "unit": "VN.68.672", "tier": "district"}])
        assert list(connection.scalars(select(rows.c.id).where(readable(reader, rows.c.unit, rows.c.tier)))) == [1]
        assert list(connection.scalars(select(rows.c.id).where(writable(reader, rows.c.unit, rows.c.tier)))) == []


CENTRAL = Principal(
    subject="user:central",
    kind=PrincipalKind.STAFF,
    grants=(
        Grant(unit_path="VN", tiers=frozenset({ManagementTier.CENTRAL}), actions=frozenset({Action.READ, Action.WRITE})),
        Grant(unit_path="VN", tiers=frozenset(ManagementTier), actions=frozenset({Action.AGGREGATE})),
    ),
)
PROVINCE = Principal(
    subject="user:lamdong",
    kind=PrincipalKind.STAFF,
    grants=(
        Grant(
            unit_path="VN.68",
            tiers=frozenset(
                {
                    ManagementTier.PROVINCIAL_1,
                    ManagementTier.PROVINCIAL_2,
                    ManagementTier.PROVINCIAL_3,
                    ManagementTier.CENTRAL,
                    ManagementTier.TREATMENT_ONLY,
                }
            ),  # as contracts.roles.provincial_board grants: treatment_only too
            actions=frozenset({Action.READ, Action.WRITE}),
        ),
        Grant(unit_path="VN.68", tiers=frozenset({ManagementTier.DISTRICT}), actions=frozenset({Action.READ})),
    ),
)


def test_board_writes_need_the_unit_and_a_tier_the_board_manages() -> None:
    assert board_tiers("VN") == {ManagementTier.CENTRAL}
    assert ManagementTier.PROVINCIAL_2 in board_tiers("VN.68")
    assert ManagementTier.DISTRICT in board_tiers("VN.68.672")
    assert administers_board(CENTRAL, "VN")
    assert not administers_board(CENTRAL, "VN.68.672")  # the defect found from outside: unit covered, tier not
    assert not administers_board(CENTRAL, "VN.68")
    assert administers_board(PROVINCE, "VN.68")
    assert not administers_board(PROVINCE, "VN.68.672")  # reads the districts, writes them only if delegated
    assert not administers_board(PROVINCE, "VN.79")
    assert sees_board(PROVINCE, "VN.68.672") and not sees_board(PROVINCE, "VN.79")


def select_ids(condition: Any) -> set[int]:
    with ENGINE.begin() as connection:
        return set(connection.scalars(select(rows.c.id).where(condition)))


@settings(max_examples=150, deadline=None)
@given(principal=principals, data=cadre_rows)
def test_the_health_record_filter_and_its_python_twin_agree_and_narrow_only_the_central_tier(
    principal: Principal, data: list[tuple[str, ManagementTier]]
) -> None:
    with ENGINE.begin() as connection:
        connection.execute(rows.delete())
        connection.execute(insert(rows), [{"id": i, "unit": u, "tier": t.value} for i, (u, t) in enumerate(data)])
    health = select_ids(health_records_readable(principal, rows.c.unit, rows.c.tier))
    assert health == {i for i, (unit, tier) in enumerate(data) if may_read_health_records(principal, unit, tier)}
    read = select_ids(readable(principal, rows.c.unit, rows.c.tier))
    assert health <= read
    assert {i for i in read - health if data[i][1] is not ManagementTier.CENTRAL} == set()  # other tiers: as READ


def flagged(principal: Principal) -> Principal:
    grants = tuple(g.model_copy(update={"central_tier_health_records": True}) for g in principal.grants)
    return principal.model_copy(update={"grants": grants})


def test_a_central_tier_cadres_health_records_need_the_flag_and_other_tiers_do_not() -> None:
    assert PROVINCE.may(Action.READ, "VN.68.672", ManagementTier.CENTRAL)  # the registry's scope: they are its cadres
    assert not may_read_health_records(PROVINCE, "VN.68.672", ManagementTier.CENTRAL)
    assert may_read_health_records(flagged(PROVINCE), "VN.68.672", ManagementTier.CENTRAL)
    assert not may_read_health_records(flagged(PROVINCE), "VN.79", ManagementTier.CENTRAL)  # the flag widens no unit
    for tier in (ManagementTier.PROVINCIAL_1, ManagementTier.DISTRICT, ManagementTier.TREATMENT_ONLY):
        assert may_read_health_records(PROVINCE, "VN.68.672", tier)
    writer_only = Principal(
        subject="client:his",
        kind=PrincipalKind.HIS,
        grants=(
            Grant(
                unit_path="VN.68",
                tiers=frozenset(ManagementTier),
                actions=frozenset({Action.WRITE, Action.AGGREGATE}),
                central_tier_health_records=True,
            ),
        ),
    )
    assert not may_read_health_records(writer_only, "VN.68", ManagementTier.CENTRAL)  # the flag needs READ
    with ENGINE.begin() as connection:
        connection.execute(rows.delete())
        connection.execute(
            insert(rows), [{"id": 1, "unit": "VN.68.672", "tier": "central"}, {"id": 2, "unit": "VN.68", "tier": "district"}]
        )
    assert select_ids(health_records_readable(PROVINCE, rows.c.unit, rows.c.tier)) == {2}
    assert select_ids(health_records_readable(flagged(PROVINCE), rows.c.unit, rows.c.tier)) == {1, 2}
    assert select_ids(readable(PROVINCE, rows.c.unit, rows.c.tier)) == {1, 2}
    only_central = Principal(subject="user:c", kind=PrincipalKind.STAFF, grants=(CENTRAL.grants[0],))
    assert select_ids(health_records_readable(only_central, rows.c.unit, rows.c.tier)) == set()  # no tier left: no clause
