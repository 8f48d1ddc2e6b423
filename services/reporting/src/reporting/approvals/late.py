"""Flagging late records: the projections' one call into the approval chain.

A clinical record (recorded, amended or withdrawn) whose date falls in a locked (unit, period) and that arrives
after the lock is applied as any other (the live figures and a re-issue count it) and listed here against each
lock it falls in. The locks are read once per transaction (a consumer's batch): a handful of rows, so flagging
costs one statement per batch, and one more per late record.
"""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.approvals import domain, queries
from reporting.approvals.tables import LateRecordRow
from servicekit.sql import table_of, upsert

LOCKS = "reporting.approvals.locks"  # the transaction's copy of the locks, in `session.info`


async def _locks(session: AsyncSession) -> list[tuple[Any, str, date, date, datetime]]:
    cached: list[tuple[Any, str, date, date, datetime]] | None = session.info.get(LOCKS)
    if cached is None:
        cached = [
            (a, unit, start, end, at) for a, unit, start, end, at in await session.execute(queries.locks()) if at is not None
        ]
        session.info[LOCKS] = cached
    return cached


async def flag_if_late(session: AsyncSession, received_at: datetime, record: Mapping[str, Any]) -> None:
    """List `record` (a ClinicalFact row as the projections build it) against every lock it arrived after."""
    for approval_id, unit, start, end, locked_at in await _locks(session):
        if domain.record_is_late((unit, start, end), locked_at, record["managing_unit"], record["occurred_on"], received_at):
            row = {
                "approval_id": approval_id,
                "record_id": record["record_id"],
                "version": record["version"],
                "record_kind": record["kind"],
                "occurred_on": record["occurred_on"],
                "managing_unit": record["managing_unit"],
                "withdrawn": record["withdrawn"],
                "received_at": received_at,
            }
            await upsert(session, table_of(LateRecordRow), row, keys=("approval_id", "record_id"))
