"""Break the glass: time-boxed read access to one record outside the caller's scope, with a written reason.

The access is granted for a configurable time, audited (the request and every read under it), and
reported to the record's managing board, which lists and acknowledges what was opened in its scope.
The widened grant is only added to requests aimed at that record by id (see proxy), never to lists.
"""

import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.common import Page
from contracts.api.gateway import BreakGlassCreate, BreakGlassRecord
from contracts.enums import Action, ManagementTier
from contracts.scope import Principal
from gateway.break_glass import queries
from gateway.recent import Recent
from gateway.tables import BreakGlassRow, CadreScope
from gateway.timestamps import aware
from servicekit import clock
from servicekit.db import Database
from servicekit.errors import Conflict, NotFound
from servicekit.pagination import PageParams, paginate
from servicekit.scope import may

CACHED_SUBJECTS = 10_000  # a bound on the cache's memory: the least recently asked go first


@dataclass(frozen=True)
class OpenGlass:
    id: uuid.UUID
    cadre_id: str
    managing_unit: str
    tier: ManagementTier


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
        active=aware(row.expires_at) > now,
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
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.default_minutes = default_minutes
        self._cache: Recent[str, tuple[OpenGlass, ...]] = Recent(
            self._read_open, maxsize=CACHED_SUBJECTS, ttl=cache_seconds, timer=monotonic
        )

    async def request(self, session: AsyncSession, principal: Principal, data: BreakGlassCreate) -> BreakGlassRecord:
        scope = await session.get(CadreScope, data.cadre_id)
        if scope is None:
            raise NotFound("no such cadre")
        tier = ManagementTier(scope.tier)
        if may(principal, Action.READ, scope.managing_unit, tier):
            raise Conflict("the record is within your scope: no exception is needed", code="in_scope")
        now = clock.now()
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
        self._cache.invalidate(principal.subject)
        return public(row, now)

    async def open_for(self, subject: str) -> tuple[OpenGlass, ...]:
        return await self._cache.get(subject)

    async def _read_open(self, subjects: Collection[str]) -> dict[str, tuple[OpenGlass, ...]]:
        opened: dict[str, list[OpenGlass]] = {subject: [] for subject in subjects}
        async with self.db.transaction() as session:  # as grants are read (gateway.grants.store)
            for r in await session.scalars(queries.in_force_for(subjects, clock.now())):
                opened[r.subject].append(OpenGlass(r.id, str(r.cadre_id), r.managing_unit, ManagementTier(r.tier)))
        return {subject: tuple(glasses) for subject, glasses in opened.items()}

    async def for_board(
        self, session: AsyncSession, board: Principal, *, unit: str | None, page: PageParams
    ) -> Page[BreakGlassRecord]:
        """What was opened on records the board manages (its read scope), newest first."""
        now = clock.now()
        return await paginate(session, queries.on_board_records(board, unit), page, lambda row: public(row[0], now))

    async def mine(self, session: AsyncSession, principal: Principal) -> list[BreakGlassRecord]:
        rows = await session.scalars(queries.opened_by(principal.subject))
        now = clock.now()
        return [public(r, now) for r in rows]

    async def acknowledge(self, session: AsyncSession, board: Principal, glass_id: uuid.UUID) -> BreakGlassRecord:
        row = await session.scalar(queries.on_board_record(board, glass_id))
        if row is None:
            raise NotFound("no such break-the-glass access in your scope")
        if row.acknowledged_at is None:
            row.acknowledged_at = clock.now()
            row.acknowledged_by = board.subject
            session.add(row)
            await session.flush()
        return public(row, clock.now())
