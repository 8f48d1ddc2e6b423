"""The events of the national move (CadreTierChanged for a new tier, then CadreTransferred, each carrying the
cadre as it stands after both, as registry.moves publishes a reorganisation's moves), written set-based: there
may be 300,000 cadres. On PostgreSQL the database builds the outbox rows from the moved cadres' rows and the plan
in national_bulk's table (one INSERT ... SELECT with json_build_* per event type); elsewhere they go through
`Outbox.append_payloads` as JSON built from the rows. Both take the snapshot's fields from the contracts'
CadreSnapshot, and the first event of each type is built in Python and validated against the contract."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import RowMapping, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import DomainEvent
from contracts.events.registry import CadreSnapshot, CadreTierChanged, CadreTransferred
from contracts.topics import topic_of
from registry.tables import KIT, Cadre
from registry.units.national import REFORM_DATE, REFORM_REASON
from registry.units.national_bulk import MOVES
from servicekit.outbox import Outbox, RawEvent
from servicekit.sql import table_of

SNAPSHOT_FIELDS = tuple(CadreSnapshot.model_fields)
# headers that differ per row, as SQL over the moved cadre `c` and its generated event id `e.event_id`
VARYING_HEADERS = {"ce_id": "e.event_id", "ce_subject": "e.id::text", "ce_managingunit": "e.managing_unit", "ce_tier": "e.tier"}


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _payloads(
    cadre: Mapping[str, Any] | RowMapping, unit: str, tier: str, reorganisation_id: uuid.UUID
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    snapshot = {name: _json(cadre[name]) for name in SNAPSHOT_FIELDS}
    snapshot.update(managing_unit=unit, tier=tier)
    change = None
    if tier != cadre["tier"]:
        change = {"cadre": snapshot, "previous_tier": cadre["tier"], "effective_date": REFORM_DATE.isoformat()}
    transfer = {
        "cadre": snapshot,
        "previous_managing_unit": cadre["managing_unit"],
        "effective_date": REFORM_DATE.isoformat(),
        "reason": REFORM_REASON,
        "reorganisation_id": str(reorganisation_id),
    }
    return change, transfer


async def append_move_events(
    session: AsyncSession,
    outbox: Outbox,
    cadres: Sequence[RowMapping],
    units: Mapping[uuid.UUID, str],
    tiers: Mapping[uuid.UUID, str],
    reorganisation_id: uuid.UUID,
) -> int:
    """Elsewhere than on PostgreSQL: `cadres` (whole rows) as they were before the move; `units`/`tiers` where they
    are now. Returns the events written."""
    transfers: list[RawEvent] = []
    changes: list[RawEvent] = []
    for cadre in cadres:
        unit, tier = units[cadre["id"]], tiers[cadre["id"]]
        change, transfer = _payloads(cadre, unit, tier, reorganisation_id)
        if change is not None:
            changes.append(RawEvent(str(cadre["id"]), change, unit, tier))
        transfers.append(RawEvent(str(cadre["id"]), transfer, unit, tier))
    if not transfers:
        return 0
    written = 0
    if changes:
        written += await outbox.append_payloads(session, CadreTierChanged.model_validate(changes[0].payload), changes)
    return written + await outbox.append_payloads(session, CadreTransferred.model_validate(transfers[0].payload), transfers)


async def append_move_events_on_postgresql(session: AsyncSession, outbox: Outbox, reorganisation_id: uuid.UUID) -> int:
    """The events of the moves in national_bulk's table (the cadres already moved): every tier change, then every
    transfer, each in the plan's order. The first cadre of each is validated against the contract."""
    written = 0
    for retiered_only, contract in ((True, CadreTierChanged), (False, CadreTransferred)):
        sample = await _sample(session, retiered_only, reorganisation_id)
        if sample is None:
            continue
        statement, params = _event_statement(outbox, contract.model_validate(sample), retiered_only)
        params |= {"effective": REFORM_DATE, "reason": REFORM_REASON, "reorganisation": str(reorganisation_id)}
        result = await session.execute(text(statement), params)
        written += int(getattr(result, "rowcount", 0) or 0)
    if written:
        outbox.wake_on_commit(session)
    return written


async def _sample(session: AsyncSession, retiered_only: bool, reorganisation_id: uuid.UUID) -> dict[str, Any] | None:
    """The payload of the plan's first event of its kind, built in Python from the cadre's row."""
    where = "WHERE tier <> old_tier " if retiered_only else ""
    found = await session.execute(text(f"SELECT id, old_unit, old_tier FROM {MOVES} {where}ORDER BY ordinal LIMIT 1"))
    first = found.first()
    if first is None:
        return None
    cadres = table_of(Cadre)
    row = (await session.execute(select(cadres).where(cadres.c.id == first.id))).mappings().one()
    before = {**row, "managing_unit": first.old_unit, "tier": first.old_tier}
    change, transfer = _payloads(before, row["managing_unit"], row["tier"], reorganisation_id)
    return change if retiered_only else transfer


def _event_statement(outbox: Outbox, sample: DomainEvent, retiered_only: bool) -> tuple[str, dict[str, Any]]:
    """INSERT ... SELECT of outbox rows in the exact shape `Outbox.append` writes, over the moved cadres' rows."""
    headers, params, template = outbox.sql_headers(sample, VARYING_HEADERS)
    params |= {"topic": topic_of(type(sample)).name, "created_at": template.time}
    # field and column names come from the contract and the table, never from a request
    snapshot = ", ".join(f"'{name}', e.{table_of(Cadre).c[name].name}" for name in SNAPSHOT_FIELDS)
    if retiered_only:
        before, where = "m.old_tier", "WHERE m.tier <> m.old_tier "
        rest = "'previous_tier', e.before, 'effective_date', CAST(:effective AS date)"
    else:
        before, where = "m.old_unit", ""
        rest = (
            "'previous_managing_unit', e.before, 'effective_date', CAST(:effective AS date), 'reason', CAST(:reason AS text),"
            " 'reorganisation_id', CAST(:reorganisation AS text)"
        )
    statement = (
        f"INSERT INTO {KIT.outbox.name} (event_id, topic, key, headers, payload, created_at) "
        f"SELECT e.event_id, :topic, e.id::text, {headers}, "
        f"convert_to(json_build_object('cadre', json_build_object({snapshot}), {rest})::text, 'UTF8'), :created_at "
        f"FROM (SELECT gen_random_uuid()::text AS event_id, {before} AS before, m.ordinal, c.* "
        f"FROM {table_of(Cadre).name} c JOIN {MOVES} m ON c.id = m.id {where}) e ORDER BY e.ordinal"
    )
    return statement, params
