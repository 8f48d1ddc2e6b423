"""PostgreSQL builds the InvitationIssued outbox rows of a generation itself (a national plan issues some
450,000 in one transaction); SQLite goes through `Outbox.append_payloads`."""

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import DomainEvent
from contracts.topics import topic_of
from servicekit.outbox import Outbox
from servicekit.tables import KitTables


async def append_invitations_issued_pg(
    session: AsyncSession, outbox: Outbox, tables: KitTables, sample: DomainEvent, batch_id: uuid.UUID
) -> int:
    """PostgreSQL: one InvitationIssued outbox row per invitation of a generation batch, built by the database
    itself (INSERT ... SELECT with json_build_*), in the exact shape `Outbox.append` writes (same headers, same
    payload fields). SQLite takes `append_many`; the tests parse both back with the contracts' own parser."""
    headers, template = outbox.header_template(sample)
    varying = {
        "ce_id": "e.event_id",
        "ce_subject": "e.id::text",
        "ce_managingunit": "e.managing_unit",
        "ce_tier": "e.tier",
    }
    params: dict[str, Any] = {"batch": batch_id, "topic": topic_of(type(sample)).name, "created_at": template.time}
    pairs = []
    for position, (name, value) in enumerate(headers):
        params[f"h{position}"] = name
        if name in varying:
            pairs.append(f"json_build_array(CAST(:h{position} AS text), {varying[name]})")
        else:
            params[f"v{position}"] = value
            pairs.append(f"json_build_array(CAST(:h{position} AS text), CAST(:v{position} AS text))")
    payload = (
        "json_build_object('invitation_id', e.id, 'plan_id', e.plan_id, 'round_id', e.round_id, 'cadre_id', e.cadre_id,"
        " 'tier', e.tier, 'managing_unit', e.managing_unit, 'facility', e.facility, 'appointment_date', e.appointment_date,"
        " 'attempt', e.attempt, 'at_home', e.at_home, 'previous_invitation_id', e.previous_invitation_id)"
    )
    statement = text(
        f"INSERT INTO {tables.outbox.name} (event_id, topic, key, headers, payload, created_at) "
        f"SELECT e.event_id, :topic, e.id::text, json_build_array({', '.join(pairs)}), "
        f"convert_to({payload}::text, 'UTF8'), :created_at "
        "FROM (SELECT gen_random_uuid()::text AS event_id, i.* FROM invitation i WHERE i.batch_id = :batch) e"
    )
    result = await session.execute(statement, params)
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        outbox.wake_on_commit(session)
    return count
