"""Refresh and revocation of the built-in tokens.

Refresh tokens are opaque random strings, stored only as their SHA-256. Each use rotates the token
(the old one is spent); presenting a spent token again means it was stolen and replayed, so its
whole family is revoked. Access tokens are revoked by their `jti` until they expire.
"""

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from cachetools import LRUCache
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import queries
from gateway.recent import Recent
from gateway.tables import RefreshTokenRow, RevokedTokenRow
from gateway.timestamps import aware
from servicekit import clock
from servicekit.db import Database
from servicekit.sql import insert_ignoring_duplicates, table_of


class RefreshRefused(Exception):
    pass


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(
        self, db: Database, *, refresh_seconds: int, cache_seconds: float = 2.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.refresh_ttl = timedelta(seconds=refresh_seconds)
        # a revocation is final (kept until evicted); "not revoked" is re-asked after cache_seconds
        self._revoked: LRUCache[str, bool] = LRUCache(maxsize=100_000)
        self._recent: Recent[str, bool] = Recent(self._read_revoked, maxsize=100_000, ttl=cache_seconds, timer=monotonic)

    async def issue_refresh(self, subject: str, family: str | None = None) -> str:
        token = secrets.token_urlsafe(32)
        now = clock.now()
        async with self.db.transaction() as session:
            session.add(
                RefreshTokenRow(
                    token_hash=_digest(token),
                    family=family or str(uuid.uuid4()),
                    subject=subject,
                    issued_at=now,
                    expires_at=now + self.refresh_ttl,
                )
            )
        return token

    async def rotate(self, token: str) -> tuple[str, str]:
        """Spend a refresh token: (subject, a new refresh token of the same family). Raises RefreshRefused."""
        now = clock.now()
        refusal: str | None = None
        async with self.db.transaction() as session:
            row = await session.get(RefreshTokenRow, _digest(token), with_for_update=True)
            if row is None:
                raise RefreshRefused("unknown refresh token")
            if row.used_at is not None or row.revoked_at is not None:
                # a replay: close the whole session (committed, then refused below)
                await session.execute(queries.close_family(row.family, now))
                refusal = "the refresh token was already used or revoked: its session is closed"
            elif aware(row.expires_at) <= now:
                refusal = "the refresh token has expired"
            else:
                row.used_at = now
                session.add(row)
            subject, family = row.subject, row.family
        if refusal is not None:
            raise RefreshRefused(refusal)
        return subject, await self.issue_refresh(subject, family)

    async def revoke_refresh(self, token: str) -> bool:
        now = clock.now()
        async with self.db.transaction() as session:
            row = await session.get(RefreshTokenRow, _digest(token))
            if row is None:
                return False
            await session.execute(queries.close_family(row.family, now))
            return True

    async def close_all(self, session: AsyncSession, subject: str) -> None:
        """Every session of a principal ends (in the caller's transaction: it was disabled)."""
        await session.execute(queries.close_sessions_of(subject, clock.now()))

    async def revoke_access(self, jti: str, subject: str, expires_at: datetime) -> None:
        now = clock.now()
        async with self.db.transaction() as session:
            await session.execute(
                insert_ignoring_duplicates(session, table_of(RevokedTokenRow)).values(
                    jti=jti, subject=subject, expires_at=expires_at, revoked_at=now
                )
            )
            await session.execute(queries.expired_revocations(now))
        self._revoked[jti] = True
        self._recent.invalidate(jti)

    async def is_revoked(self, jti: str) -> bool:
        if jti in self._revoked:
            return True
        return await self._recent.get(jti)

    async def _read_revoked(self, jtis: Collection[str]) -> dict[str, bool]:
        async with self.db.read() as session:  # a read: never queues behind the audit writer
            revoked = set(await session.scalars(queries.revoked_among(jtis)))
        self._revoked.update(dict.fromkeys(revoked, True))
        return {jti: jti in revoked for jti in jtis}
