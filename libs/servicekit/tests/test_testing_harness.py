"""The harness every service's tests share: principals as the gateway builds them, and the event feed that
hands events to a service's real consumers (SQLite and PostgreSQL)."""

from datetime import UTC, datetime

import pytest
from event_flow_support import KIT, effect_counts, record_effect, registered
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import examples, roles
from contracts.enums import Action, ManagementTier
from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreRegistered, UnitCreated
from contracts.scope import PrincipalKind
from servicekit.broker import Broker
from servicekit.consumer import EventConsumer
from servicekit.db import Database
from servicekit.outbox import Outbox
from servicekit.testing.events import EventFeed, outbox_records
from servicekit.testing.principals import ROLES, principal_for, without_tiers


def test_a_principal_holds_exactly_its_roles_grants_kind_and_permissions() -> None:
    dalat = principal_for(roles.district_board, "VN.68.672")
    assert (dalat.kind, dalat.grants, dalat.permissions) == (
        PrincipalKind.STAFF,
        roles.district_board("VN.68.672"),
        roles.STAFF_PERMISSIONS,
    )
    assert dalat.subject == "user:district_board-VN.68.672"
    his = principal_for(roles.his_client, "VN.68", facility="68-BVDK")
    assert (his.kind, his.subject, his.facility, his.permissions) == (
        PrincipalKind.HIS,
        "client:his_client-VN.68",
        "68-BVDK",
        roles.HIS_PERMISSIONS,
    )
    admin = principal_for(roles.administrator, subject="user:admin")
    assert (admin.kind, admin.grants, admin.permissions) == (PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS)
    # a role named as the gateway names it: the board's administrator shares the board's grants, not its permissions
    board_admin = principal_for("district_board_admin", "VN.68.672")
    assert board_admin.grants == dalat.grants and board_admin.permissions == ROLES["district_board_admin"].permissions
    assert board_admin.permissions != dalat.permissions


def test_without_tiers_removes_the_tiers_and_the_grants_left_with_none() -> None:
    board = principal_for(roles.provincial_board, "VN.68")
    narrowed = without_tiers(board, ManagementTier.CENTRAL, ManagementTier.TREATMENT_ONLY)
    assert all(ManagementTier.CENTRAL not in grant.tiers for grant in narrowed.grants)
    assert not narrowed.may(Action.READ, "VN.68", ManagementTier.CENTRAL)
    assert narrowed.may(Action.WRITE, "VN.68", ManagementTier.PROVINCIAL_2)
    assert without_tiers(board, *ManagementTier).grants == ()


def consumer(db: Database, name: str = "fed", handler=record_effect) -> EventConsumer:  # type: ignore[no-untyped-def]
    return EventConsumer(name, db, KIT, Broker("127.0.0.1:9"), {CadreRegistered: handler})


async def test_the_feed_applies_events_through_the_consumers_once(db: Database) -> None:
    feed = EventFeed([consumer(db)])
    at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    first = await feed.send(registered(), subject="cadre-1", managing_unit="VN.68", tier=ManagementTier.DISTRICT, time=at)
    second = await feed.send(registered())
    assert (first.subject, first.managing_unit, first.tier, first.time, first.source) == (
        "cadre-1",
        "VN.68",
        ManagementTier.DISTRICT,
        at,
        "cadrecare/test",
    )
    assert await effect_counts(db) == {str(first.id): 1, str(second.id): 1}
    await feed.redeliver_all()  # a broker's redelivery: skipped by event id
    assert await effect_counts(db) == {str(first.id): 1, str(second.id): 1}
    # an event of no consumer's topic reaches nobody, and a consumer ignores the types it has no handler for
    await feed.send(UnitCreated(unit=examples.unit()))
    assert len(await effect_counts(db)) == 2


async def test_a_fed_event_a_handler_refuses_fails_at_once_naming_the_consumer(db: Database) -> None:
    async def refuse(session: AsyncSession, envelope: EventEnvelope, event: CadreRegistered) -> None:
        raise ValueError("no such unit")

    feed = EventFeed([consumer(db, "refusing", refuse)])
    with pytest.raises(AssertionError, match=r"consumer refusing could not apply .*ValueError: no such unit"):
        await feed.send(registered())


async def test_only_the_named_consumers_get_an_event(db: Database) -> None:
    one, other = consumer(db, "one"), consumer(db, "other")
    feed = EventFeed([one, other])
    envelope = await feed.send(registered(), only=[other])
    processed = KIT.processed_events
    async with db.read() as session:
        consumers = set(await session.scalars(select(processed.c.consumer).where(processed.c.event_id == str(envelope.id))))
    assert consumers == {"other"}


async def test_outbox_rows_become_the_records_the_relay_would_publish(db: Database) -> None:
    outbox = Outbox(KIT, source="cadrecare/registry")
    async with db.transaction() as session:
        sent = [await outbox.append(session, registered(), subject=f"cadre-{n}") for n in range(3)]
    records = await outbox_records(db, KIT)
    assert [EventEnvelope.from_kafka(list(r.headers), r.value).id for _, r in records] == [e.id for e in sent]
    assert [r.key for _, r in records] == [b"cadre-0", b"cadre-1", b"cadre-2"]
    after_first = await outbox_records(db, KIT, after=records[0][0])
    assert [row_id for row_id, _ in after_first] == [row_id for row_id, _ in records[1:]]
    feed = EventFeed([consumer(db)])
    for _, record in records:
        await feed.deliver(record)
    assert set(await effect_counts(db)) == {str(e.id) for e in sent}
