"""Audit use cases: auditors query the trail within their scope (and that query is itself audited),
verify the chain, and purge what the retention period has passed, on request or every few hours."""

import asyncio
import logging
import uuid
from datetime import datetime

from contracts.api.common import Page
from contracts.api.gateway import AuditPurge, AuditRecord, AuditVerification
from gateway.audit.trail import AuditEntry
from gateway.context import Caller, Gateway
from servicekit.pagination import PageParams

log = logging.getLogger(__name__)

QUERY = "gateway:audit.query"
PURGE = "gateway:audit.purge"
RETENTION_EVERY_SECONDS = 6 * 3600


async def records(
    gateway: Gateway,
    caller: Caller,
    target: str,
    page: PageParams,
    *,
    cadre_id: uuid.UUID | None,
    actor: str | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Page[AuditRecord]:
    await gateway.audit.settled()  # before the session opens: on SQLite an open transaction blocks the writer
    async with gateway.runtime.db.transaction() as session:
        found = await gateway.audit.query(
            session, caller.principal, page, cadre_id=cadre_id, actor=actor, outcome=outcome, since=since, until=until
        )
    named = sorted({s for item in found.items for s in item.subjects})
    await gateway.audit.append(caller.entry(QUERY, "GET", target, 200, subjects=named))
    return found


async def verify(gateway: Gateway) -> AuditVerification:
    return await gateway.audit.verify()


async def purge(gateway: Gateway, caller: Caller, target: str) -> AuditPurge:
    purged = await gateway.audit.purge_expired()
    await gateway.audit.append(caller.entry(PURGE, "POST", target, 200, detail=f"{purged.purged} records"))
    return purged


async def apply_retention(gateway: Gateway) -> None:
    """The housekeeping worker: the retention period applied every few hours, the purge itself audited."""
    while True:
        try:
            purged = await gateway.audit.purge_expired()
            if purged.purged:
                entry = AuditEntry(
                    actor="system:retention",
                    actor_kind="system",
                    operation=PURGE,
                    method="-",
                    path="-",
                    outcome="success",
                    status_code=200,
                    detail=f"{purged.purged} records older than {gateway.settings.audit_retention_days} days",
                )
                await gateway.audit.append(entry)
        except Exception:
            log.exception("audit retention failed")
        await asyncio.sleep(RETENTION_EVERY_SECONDS)
