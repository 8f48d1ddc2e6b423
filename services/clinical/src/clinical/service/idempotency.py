"""The Idempotency-Key header: the first answer to a key is stored and replayed for every repeat of it."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from clinical.tables import IdempotentRequest
from contracts.scope import Principal
from servicekit.errors import Conflict, Refused, field_error
from servicekit.sql import insert_ignoring_duplicates, table_of

MAX_KEY_LENGTH = 200


def request_hash(route: str, body: Any) -> str:
    canonical = json.dumps([route, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Refused(
            "invalid Idempotency-Key",
            errors=[field_error(["header", "idempotency-key"], f"1 to {MAX_KEY_LENGTH} printable characters")],
        )


async def _stored(session: AsyncSession, principal: Principal, key: str, digest: str) -> tuple[int, dict[str, Any]] | None:
    row = await session.scalar(
        select(IdempotentRequest).where(col(IdempotentRequest.owner) == principal.subject, col(IdempotentRequest.key) == key)
    )
    if row is None:
        return None
    if row.request_hash != digest:
        raise Conflict("this Idempotency-Key was already used for a different request", code="idempotency_key_reused")
    return row.status_code, row.response


async def replay(session: AsyncSession, principal: Principal, key: str, digest: str) -> tuple[int, dict[str, Any]] | None:
    """The stored answer to this key, if any (Conflict if the key came with another request)."""
    check_key(key)
    return await _stored(session, principal, key, digest)


async def remember(
    session: AsyncSession, principal: Principal, key: str, digest: str, status_code: int, response: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Store this answer; if a concurrent request with the same key got there first, its answer wins."""
    result = await session.execute(
        insert_ignoring_duplicates(session, table_of(IdempotentRequest)).values(
            owner=principal.subject,
            key=key,
            request_hash=digest,
            status_code=status_code,
            response=response,
            created_at=datetime.now(UTC),
        )
    )
    if getattr(result, "rowcount", 1) == 0:
        stored = await _stored(session, principal, key, digest)
        if stored is not None:
            return stored
    return status_code, response
