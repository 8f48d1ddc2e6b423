"""Who may sign in, from the gateway's database: the principal behind a token (cached briefly, as grants are),
password and client-credential sign-in with the lockout, and the principals file as the seed.

The principals file seeds the table (gateway.identity): at start-up and whenever the file changes, its
principals that the table does not hold yet are added; a principal already in the table is managed through
the API and never overwritten from the file.
"""

import asyncio
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.scope import Principal, PrincipalKind
from gateway.domain import LockoutPolicy, home_unit
from gateway.identities import queries
from gateway.identity import ClientRecord, Directory, UserRecord, hash_secret, secret_matches
from gateway.recent import Recent
from gateway.tables import IdentityRow
from servicekit import clock
from servicekit.db import Database
from servicekit.scope import NATION
from servicekit.sql import insert_ignoring_duplicates, table_of

FROM_FILE = "system:principals-file"


def _lookupable(subject: str) -> bool:
    """A name from outside (a sign-in form, an external provider's claim) that could name a row at all: one
    with a NUL or control character would make PostgreSQL refuse the query rather than find nobody."""
    return 0 < len(subject) <= 200 and subject.isprintable()


def principal_of(row: IdentityRow) -> Principal:
    """The principal without grants: those are resolved per request from the grants table."""
    return Principal(
        subject=row.subject,
        kind=PrincipalKind(row.kind),
        display_name=row.display_name,
        facility=row.facility,
        permissions=frozenset(row.permissions),
    )


def seed_row(record: UserRecord | ClientRecord) -> dict[str, object]:
    """A principal of the file as a row: its hashed secret as it is, its home unit from its grants."""
    if isinstance(record, UserRecord):
        login, name, secret_hash, facility = "user", record.username, record.password_hash, None
    else:
        login, name, secret_hash, facility = "client", record.client_id, record.secret_hash, record.facility
    now = clock.now()
    return {
        "subject": f"{login}:{name}",
        "login": login,
        "name": name,
        "kind": record.kind.value,
        "display_name": record.display_name,
        "role": None,
        "unit_path": home_unit(record.grants) or NATION,
        "facility": facility,
        "permissions": sorted(record.permissions),
        "secret_hash": secret_hash,
        "secret_changed_at": now,
        "source": "file",
        "created_by": FROM_FILE,
        "created_at": now,
        "failed_signins": 0,
    }


@dataclass(frozen=True)
class SignIn:
    principal: Principal | None
    locked_now: bool = False  # this failure locked the account (the audit trail records it)
    subject: str | None = None
    kind: str = ""
    unit_path: str | None = None


class IdentityStore:
    def __init__(
        self,
        db: Database,
        directory: Directory,
        *,
        lockout: LockoutPolicy,
        cache_seconds: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.directory = directory
        self.lockout = lockout
        self._cache: Recent[str, Principal | None] = Recent(
            self._read_principals, maxsize=100_000, ttl=cache_seconds, timer=monotonic
        )
        self._imported: float | None = None
        self._import_lock = asyncio.Lock()
        self._dummy: str | None = None

    def invalidate(self, subject: str | None = None) -> None:
        self._cache.invalidate(subject)

    async def follow_file(self) -> int:
        """Add the file's principals the table does not hold yet, if the file changed since the last time."""
        version = self.directory.version()
        if version is None or version == self._imported:
            return 0
        async with self._import_lock:
            if version == self._imported:
                return 0
            added = await self._import(self.directory)
            self._imported = version
        self.invalidate()
        return added

    async def _import(self, directory: Directory) -> int:
        records = directory.records()
        everyone: list[UserRecord | ClientRecord] = [*records.users, *records.clients]
        rows = [seed_row(record) for record in everyone]
        async with self.db.transaction() as session:
            known = set(await session.scalars(queries.known_subjects()))
            new = [row for row in rows if row["subject"] not in known]
            for row in new:  # one by one: another replica may add the same principal meanwhile
                await session.execute(insert_ignoring_duplicates(session, table_of(IdentityRow)).values(**row))
        return len(new)

    async def principal(self, subject: str) -> Principal | None:
        """The active principal a token names (None once disabled), re-read at most every cache_seconds."""
        await self.follow_file()
        if not _lookupable(subject):
            return None
        return await self._cache.get(subject)

    async def _read_principals(self, subjects: Collection[str]) -> dict[str, Principal | None]:
        async with self.db.read() as session:
            rows = {row.subject: row for row in await session.scalars(queries.active_among(subjects))}
        return {subject: principal_of(rows[subject]) if subject in rows else None for subject in subjects}

    async def exists(self, subject: str) -> bool:
        await self.follow_file()
        if not _lookupable(subject):
            return False
        async with self.db.read() as session:
            return await session.get(IdentityRow, subject) is not None

    async def active_principals(self) -> list[Principal]:
        await self.follow_file()
        async with self.db.read() as session:
            return [principal_of(row) for row in await session.scalars(queries.active())]

    async def authenticate_client(self, client_id: str, secret: str) -> Principal | None:
        """Client credentials: no lockout (a secret of 256 random bits is not guessed, and a lockout would let
        anyone who knows a hospital's client id stop its records)."""
        await self.follow_file()
        if not _lookupable(f"client:{client_id}"):
            return None
        async with self.db.read() as session:
            row = await session.get(IdentityRow, f"client:{client_id}")
        if row is None or row.login != "client" or row.disabled_at is not None:
            return None
        if not await asyncio.to_thread(secret_matches, row.secret_hash, secret):
            return None
        return principal_of(row)

    async def authenticate_user(self, username: str, password: str) -> SignIn:
        await self.follow_file()
        subject = f"user:{username}"
        if not _lookupable(subject):
            return SignIn(None)
        async with self.db.read() as session:
            row = await session.get(IdentityRow, subject)
        if row is None or row.login != "user" or row.disabled_at is not None:
            await self._spend(password)
            return SignIn(None)
        if self.lockout.locked(row.locked_until, clock.now()):
            await self._spend(password)  # a locked account learns nothing, not even from the time the answer takes
            return SignIn(None, subject=subject)
        matches = await asyncio.to_thread(secret_matches, row.secret_hash, password)
        async with self.db.transaction() as session:
            return await self._count(session, subject, matches)

    async def _spend(self, secret: str) -> None:
        """As long as checking a real password: an unknown, disabled or locked name answers no faster."""
        if self._dummy is None:
            self._dummy = await asyncio.to_thread(hash_secret, secrets.token_urlsafe(16))
        await asyncio.to_thread(secret_matches, self._dummy, secret)

    async def _count(self, session: AsyncSession, subject: str, matches: bool) -> SignIn:
        """Record the outcome on the row, locked: concurrent failures are all counted."""
        row = await session.scalar(queries.signing_in(subject))
        now = clock.now()
        if row is None or row.disabled_at is not None or self.lockout.locked(row.locked_until, now):
            return SignIn(None, subject=subject)
        if matches:
            if row.failed_signins or row.locked_until is not None:
                await session.execute(queries.record_signin(subject, 0, None))
            return SignIn(principal_of(row), subject=subject)
        failures, locked_until = self.lockout.after_failure(row.failed_signins, now)
        await session.execute(queries.record_signin(subject, failures, locked_until))
        return SignIn(None, locked_now=locked_until is not None, subject=subject, kind=row.kind, unit_path=row.unit_path)
