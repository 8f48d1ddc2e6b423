"""Break the glass: time-boxed read access to one record outside the caller's scope, with a written reason.

The access is granted for a configurable time, audited (the request and every read under it), and
reported to the record's managing board, which lists and acknowledges what was opened in its scope.
The widened grant is only added to requests aimed at that record by id (see proxy), never to lists.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.api.common import Page
from contracts.api.gateway import BreakGlassCreate, BreakGlassRecord
from contracts.enums import Action, ManagementTier
from contracts.scope import Principal
from gateway.tables import BreakGlassRow, CadreScope
from servicekit.auth import scope_filter, within_unit
from servicekit.db import Database
from servicekit.errors import Conflict, NotFound


@dataclass(frozen=True)
class OpenGlass:
    id: uuid.UUID
    cadre_id: str
    managing_unit: str
    tier: ManagementTier


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def public(row: BreakGlassRow, now: datetime) -> BreakGlassRecord:
    return BreakGlassRecord(
        id=row.id,
        subject=row.subject,
        cadre_id=row.cadre_id,
        managing_unit=row.managing_unit,
        tier=ManagementTier(row.tier),
        reason=row.reason,
        granted_at=row.granted_at,
        expires_at=row.expires_at,
        active=_aware(row.expires_at) > now,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
    )


class BreakGlass:
    def __init__(
        self,
        db: Database,
        *,
        default_minutes: int,
        cache_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.default_minutes = default_minutes
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[str, tuple[float, tuple[OpenGlass, ...]]] = {}

    async def request(self, session: AsyncSession, principal: Principal, data: BreakGlassCreate) -> BreakGlassRecord:
        scope = await session.get(CadreScope, data.cadre_id)
        if scope is None:
            raise NotFound("no such cadre")
        tier = ManagementTier(scope.tier)
        if principal.may(Action.READ, scope.managing_unit, tier):
            raise Conflict("the record is within your scope: no exception is needed", code="in_scope")
        now = datetime.now(UTC)
        minutes = min(data.minutes or self.default_minutes, self.default_minutes)
        row = BreakGlassRow(
            subject=principal.subject,
            cadre_id=data.cadre_id,
            managing_unit=scope.managing_unit,
            tier=tier.value,
            reason=data.reason,
            granted_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        session.add(row)
        await session.flush()
        self._cache.pop(principal.subject, None)
        return public(row, now)

    async def open_for(self, subject: str) -> tuple[OpenGlass, ...]:
        cached = self._cache.get(subject)
        now_mono = self.clock()
        if cached is not None and now_mono - cached[0] < self.cache_seconds:
            return cached[1]
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            rows = await session.scalars(
                select(BreakGlassRow).where(col(BreakGlassRow.subject) == subject, col(BreakGlassRow.expires_at) > now)
            )
            opened = tuple(OpenGlass(r.id, str(r.cadre_id), r.managing_unit, ManagementTier(r.tier)) for r in rows)
        self._cache[subject] = (now_mono, opened)
        return opened

    async def for_board(
        self, session: AsyncSession, board: Principal, *, unit: str | None, offset: int, limit: int
    ) -> Page[BreakGlassRecord]:
        """What was opened on records the board manages (its read scope), newest first."""
        query = select(BreakGlassRow).where(
            scope_filter(board, Action.READ, col(BreakGlassRow.managing_unit), col(BreakGlassRow.tier))
        )
        if unit:
            query = query.where(within_unit(col(BreakGlassRow.managing_unit), unit))
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await session.scalars(
            query.order_by(col(BreakGlassRow.granted_at).desc(), col(BreakGlassRow.id)).offset(offset).limit(limit)
        )
        now = datetime.now(UTC)
        return Page[BreakGlassRecord](items=[public(r, now) for r in rows], total=total, offset=offset, limit=limit)

    async def mine(self, session: AsyncSession, principal: Principal) -> list[BreakGlassRecord]:
        rows = await session.scalars(
            select(BreakGlassRow)
            .where(col(BreakGlassRow.subject) == principal.subject)
            .order_by(col(BreakGlassRow.granted_at).desc())
        )
        now = datetime.now(UTC)
        return [public(r, now) for r in rows]

    async def acknowledge(self, session: AsyncSession, board: Principal, glass_id: uuid.UUID) -> BreakGlassRecord:
        row = await session.scalar(
            select(BreakGlassRow).where(
                col(BreakGlassRow.id) == glass_id,
                scope_filter(board, Action.READ, col(BreakGlassRow.managing_unit), col(BreakGlassRow.tier)),
            )
        )
        if row is None:
            raise NotFound("no such break-the-glass access in your scope")
        if row.acknowledged_at is None:
            row.acknowledged_at = datetime.now(UTC)
            row.acknowledged_by = board.subject
            session.add(row)
            await session.flush()
        return public(row, datetime.now(UTC))
