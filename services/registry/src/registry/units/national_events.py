"""The events of the national move (CadreTierChanged for a new tier, then CadreTransferred, each carrying the
cadre as it stands after both, as registry.moves publishes a reorganisation's moves), written set-based: there
may be 300,000 cadres. On PostgreSQL the database builds the outbox rows from the moved cadres' rows (INSERT ...
SELECT with json_build_*); elsewhere they go through `Outbox.append_payloads` as JSON built from the rows. Both take
the snapshot's fields from the contracts' CadreSnapshot, and the first row of each type (or a sample) is validated
against the contract."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import DomainEvent
from contracts.events.registry import CadreSnapshot, CadreTierChanged, CadreTransferred
from contracts.topics import topic_of
from registry.history import chunks
from registry.tables import KIT, Cadre
from registry.units.national import REFORM_DATE, REFORM_REASON
from servicekit.outbox import Outbox, RawEvent
from servicekit.sql import dialect_name, table_of

SNAPSHOT_FIELDS = tuple(CadreSnapshot.model_fields)
ROWS_PER_STATEMENT = 10000
# headers that differ per row, as SQL over the moved cadre `c` and its generated event id `e.event_id`
VARYING_HEADERS = {"ce_id": "e.event_id", "ce_subject": "e.id::text", "ce_managingunit": "e.managing_unit", "ce_tier": "e.tier"}


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _payloads(
    cadre: RowMapping, unit: str, tier: str, reorganisation_id: uuid.UUID
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
    """`cadres` as they were before the move; `units`/`tiers` where they are now. Returns the events written."""
    transfers: list[RawEvent] = []
    changes: list[RawEvent] = []
    for cadre in cadres:
        unit, tier = units[cadre["id"]], tiers[cadre["id"]]
        change, transfer = _payloads(cadre, unit, tier, reorganisation_id)
        if change is not None:
            changes.append(RawEvent(str(cadre["id"]), change, unit, tier))
        transfers.append(RawEvent(str(cadre["id"]), transfer, unit, tier))
    samples = (
        CadreTierChanged.model_validate(changes[0].payload) if changes else None,
        CadreTransferred.model_validate(transfers[0].payload),
    )
    if dialect_name(session) != "postgresql":
        written = await outbox.append_payloads(session, samples[0], changes) if samples[0] else 0
        return written + await outbox.append_payloads(session, samples[1], transfers)
    written = 0
    for sample, events in zip(samples, (changes, transfers), strict=True):
        for part in chunks(events, ROWS_PER_STATEMENT):
            if sample is not None and part:
                written += await _insert_on_postgresql(session, outbox, sample, part, reorganisation_id)
    return written


def _event_statement(outbox: Outbox, sample: DomainEvent) -> tuple[str, dict[str, Any]]:
    """INSERT ... SELECT of outbox rows in the exact shape `Outbox.append` writes, over the moved cadres' rows."""
    headers, params, template = outbox.sql_headers(sample, VARYING_HEADERS)
    params |= {"topic": topic_of(type(sample)).name, "created_at": template.time}
    # field and column names come from the contract and the table, never from a request
    snapshot = ", ".join(f"'{name}', e.{table_of(Cadre).c[name].name}" for name in SNAPSHOT_FIELDS)
    if isinstance(sample, CadreTierChanged):
        rest = "'previous_tier', e.before, 'effective_date', CAST(:effective AS date)"
    else:
        rest = (
            "'previous_managing_unit', e.before, 'effective_date', CAST(:effective AS date), 'reason', CAST(:reason AS text),"
            " 'reorganisation_id', CAST(:reorganisation AS text)"
        )
    statement = (
        f"INSERT INTO {KIT.outbox.name} (event_id, topic, key, headers, payload, created_at) "
        f"SELECT e.event_id, :topic, e.id::text, {headers}, "
        f"convert_to(json_build_object('cadre', json_build_object({snapshot}), {rest})::text, 'UTF8'), :created_at "
        f"FROM (SELECT gen_random_uuid()::text AS event_id, m.before, m.ordinal, c.* FROM {table_of(Cadre).name} c "
        "JOIN unnest(CAST(:ids AS uuid[]), CAST(:befores AS text[])) WITH ORDINALITY AS m(id, before, ordinal) "
        "ON c.id = m.id) e ORDER BY e.ordinal"
    )
    return statement, params


async def _insert_on_postgresql(
    session: AsyncSession, outbox: Outbox, sample: DomainEvent, events: Sequence[RawEvent], reorganisation_id: uuid.UUID
) -> int:
    statement, params = _event_statement(outbox, sample)
    before = "previous_tier" if isinstance(sample, CadreTierChanged) else "previous_managing_unit"
    params |= {
        "ids": [uuid.UUID(e.subject) for e in events],
        "befores": [str(e.payload[before]) for e in events],
        "effective": REFORM_DATE,
        "reason": REFORM_REASON,
        "reorganisation": str(reorganisation_id),
    }
    result = await session.execute(text(statement), params)
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        outbox.wake_on_commit(session)
    return count
