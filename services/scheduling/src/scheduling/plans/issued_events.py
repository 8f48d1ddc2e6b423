"""The InvitationIssued events of a generation run, written set-based (a national plan issues some 450,000 in
one transaction): PostgreSQL builds the outbox rows itself (INSERT ... SELECT with json_build_*), SQLite goes
through `Outbox.append_payloads`. Both take the payload's fields from the contracts' event model, so a field
added to InvitationIssued needs only its invitation column (named here when the names differ)."""

import uuid
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.enums import ManagementTier
from contracts.events.scheduling import InvitationIssued
from contracts.topics import topic_of
from scheduling.tables import KIT, ExamPlan, Invitation
from servicekit import clock
from servicekit.outbox import Outbox, RawEvent
from servicekit.sql import dialect_name, table_of

COLUMN_OF_FIELD = {"invitation_id": "id"}  # where the event's field and the invitation's column differ
VARYING_HEADERS = {"ce_id": "e.event_id", "ce_subject": "e.id::text", "ce_managingunit": "e.managing_unit", "ce_tier": "e.tier"}


def payload_columns() -> dict[str, Column[Any]]:
    """The invitation column of every field of InvitationIssued, in the model's order."""
    invitations = table_of(Invitation)
    return {field: invitations.c[COLUMN_OF_FIELD.get(field, field)] for field in InvitationIssued.model_fields}


def _sample(plan: ExamPlan) -> InvitationIssued:
    """An event of the right type for the headers every row shares (the varying ones are replaced per row)."""
    return InvitationIssued(
        invitation_id=plan.id,
        plan_id=plan.id,
        round_id=plan.id,
        cadre_id=plan.id,
        tier=ManagementTier.CENTRAL,
        managing_unit=plan.board_unit,
        facility="-",
        appointment_date=clock.today(),
    )


async def append_issued(session: AsyncSession, outbox: Outbox, plan: ExamPlan, batch_id: uuid.UUID) -> int:
    """One InvitationIssued outbox row per invitation written by the generation run `batch_id`."""
    if dialect_name(session) == "postgresql":
        return await _append_on_postgresql(session, outbox, _sample(plan), batch_id)
    return await outbox.append_payloads(session, _sample(plan), await _raw_events(session, batch_id))


async def _raw_events(session: AsyncSession, batch_id: uuid.UUID) -> list[RawEvent]:
    columns = payload_columns()
    invitations = table_of(Invitation)
    rows = await session.execute(
        select(*[column.label(field) for field, column in columns.items()]).where(invitations.c.batch_id == batch_id)
    )
    events = []
    for row in rows.mappings():
        payload: dict[str, object] = {field: to_jsonable_python(value) for field, value in row.items()}
        events.append(RawEvent(str(row["invitation_id"]), payload, row["managing_unit"], row["tier"]))
    return events


async def _append_on_postgresql(session: AsyncSession, outbox: Outbox, sample: InvitationIssued, batch_id: uuid.UUID) -> int:
    """The rows in the exact shape `Outbox.append` writes (same headers, same payload fields); the tests parse both
    paths back with the contracts' own parser."""
    headers, params, template = outbox.sql_headers(sample, VARYING_HEADERS)
    params |= {"batch": batch_id, "topic": topic_of(InvitationIssued).name, "created_at": template.time}
    # field and column names come from the model and the table, never from a request
    fields = ", ".join(f"'{field}', e.{column.name}" for field, column in payload_columns().items())
    statement = text(
        f"INSERT INTO {KIT.outbox.name} (event_id, topic, key, headers, payload, created_at) "
        f"SELECT e.event_id, :topic, e.id::text, {headers}, "
        f"convert_to(json_build_object({fields})::text, 'UTF8'), :created_at "
        f"FROM (SELECT gen_random_uuid()::text AS event_id, i.* FROM {table_of(Invitation).name} i "
        "WHERE i.batch_id = :batch) e"
    )
    result = await session.execute(statement, params)
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        outbox.wake_on_commit(session)
    return count
