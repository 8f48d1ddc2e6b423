"""Grants as data: resolved per request (with a short cache), assigned and revoked by administrators
through the API, remapped when the registry reorganises units. Rows are never deleted (history).

The central-tier health-records flag (contracts.scope.Grant) travels with its row everywhere a row is
copied (bootstrap, remapping), is merged apart from unflagged grants, and is handed out or revoked only
by a holder of the flag over the grant's unit (gateway.domain.grant_within_own)."""

import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.gateway import GrantCreate, GrantRecord
from contracts.enums import Action, ManagementTier
from contracts.events.registry import UnitsReorganized
from contracts.scope import Grant, Principal
from gateway.domain import GrantTerms, grant_successors, grant_within_own, grants_in_force
from gateway.grants import queries
from gateway.identity import Directory
from gateway.recent import Recent
from gateway.tables import GrantRow
from gateway.timestamps import aware
from servicekit import clock
from servicekit.db import Database
from servicekit.errors import Forbidden, NotFound, Refused, field_error
from servicekit.sql import insert_ignoring_duplicates, table_of

BOOTSTRAP = "system:bootstrap"
CACHED_SUBJECTS = 10_000  # a bound on the cache's memory: the least recently resolved go first
REORGANISATION = "system:reorganisation"


def terms(row: GrantRow) -> GrantTerms:
    return GrantTerms(
        unit_path=row.unit_path,
        tiers=frozenset(ManagementTier(t) for t in row.tiers),
        actions=frozenset(Action(a) for a in row.actions),
        valid_from=aware(row.valid_from),
        valid_to=aware(row.valid_to),
        revoked_at=aware(row.revoked_at),
    )


def record(row: GrantRow) -> GrantRecord:
    return GrantRecord.model_validate(row, from_attributes=True)


def held_grants(rows: Iterable[GrantRow], now: datetime) -> tuple[Grant, ...]:
    """The grants in force, merged as gateway.domain.grants_in_force merges them (equal unit and tiers), but
    flagged rows apart from the others: merging never lends one row's flag to another row's actions."""
    rows = list(rows)
    plain = grants_in_force((terms(r) for r in rows if not r.central_tier_health_records), now)
    flagged = grants_in_force((terms(r) for r in rows if r.central_tier_health_records), now)
    return (*plain, *(g.model_copy(update={"central_tier_health_records": True}) for g in flagged))


def flag_errors(data: GrantCreate) -> list[str]:
    """The flag means something only on a grant that reads the central tier."""
    if not data.central_tier_health_records:
        return []
    errors = []
    if ManagementTier.CENTRAL not in data.tiers:
        errors.append("needs the central tier among the tiers")
    if Action.READ not in data.actions:
        errors.append("needs read among the actions")
    return errors


class GrantStore:
    def __init__(
        self,
        db: Database,
        directory: Directory,
        *,
        known: Callable[[str], Awaitable[bool]],
        cache_seconds: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.directory = directory  # the principals file: the initial grants of its principals
        self.known = known  # whether a subject may sign in at all (gateway.identities)
        self._cache: Recent[str, tuple[Grant, ...]] = Recent(
            self._read_grants, maxsize=CACHED_SUBJECTS, ttl=cache_seconds, timer=monotonic
        )

    def invalidate(self, subject: str | None = None) -> None:
        self._cache.invalidate(subject)

    async def resolve(self, subject: str) -> tuple[Grant, ...]:
        """The grants in force for a subject now; the first time, its grants from the principals file are
        recorded as its initial grants."""
        return await self._cache.get(subject)

    async def _read_grants(self, subjects: Collection[str]) -> dict[str, tuple[Grant, ...]]:
        # In a writing transaction, as before: on SQLite it waits for a grant change being committed (which
        # invalidates the cache before its commit) instead of caching the rows it replaces.
        rows: dict[str, list[GrantRow]] = {subject: [] for subject in subjects}
        async with self.db.transaction() as session:
            for row in await session.scalars(queries.grants_of(subjects)):
                rows[row.subject].append(row)
            for subject in [subject for subject, held in rows.items() if not held]:  # no history yet: its first read
                rows[subject] = await self._bootstrap(session, subject)
        now = clock.now()
        return {subject: held_grants(subject_rows, now) for subject, subject_rows in rows.items()}

    async def bootstrap_all(self) -> None:
        """Record the file's grants of every principal that has no grant history yet (at start-up, so that
        a reorganisation remaps them too)."""
        async with self.db.transaction() as session:
            known = set(await session.scalars(queries.subjects_with_history()))
            for principal in self.directory.principals():
                if principal.subject not in known:
                    await self._bootstrap(session, principal.subject)

    async def _bootstrap(self, session: AsyncSession, subject: str) -> list[GrantRow]:
        seed = self.directory.principal(subject)
        if seed is None or not seed.grants:
            return []
        table = table_of(GrantRow)
        now = clock.now()
        for index, grant in enumerate(seed.grants):
            await session.execute(
                insert_ignoring_duplicates(session, table).values(
                    id=uuid.uuid5(uuid.NAMESPACE_URL, f"cadrecare:bootstrap:{subject}:{index}"),
                    subject=subject,
                    unit_path=grant.unit_path,
                    tiers=sorted(grant.tiers),
                    actions=sorted(grant.actions),
                    central_tier_health_records=grant.central_tier_health_records,
                    reason="initial grants from the principals file",
                    granted_by=BOOTSTRAP,
                    granted_at=now,
                )
            )
        return list(await session.scalars(queries.grants_of([subject])))

    async def held_by(self, session: AsyncSession, subjects: Iterable[str]) -> dict[str, tuple[Grant, ...]]:
        """The grants in force now of several subjects at once (a subject with none maps to ())."""
        wanted = set(subjects)
        rows: dict[str, list[GrantRow]] = {subject: [] for subject in wanted}
        for row in await session.scalars(queries.unrevoked_of(wanted)) if wanted else ():
            rows[row.subject].append(row)
        now = clock.now()
        return {subject: held_grants(subject_rows, now) for subject, subject_rows in rows.items()}

    async def give(self, session: AsyncSession, subject: str, grants: Iterable[Grant], *, granted_by: str, reason: str) -> None:
        """A new principal's grants, as its role gives them (checked by the caller against the writer's own)."""
        for grant in grants:
            session.add(
                GrantRow(
                    subject=subject,
                    unit_path=grant.unit_path,
                    tiers=sorted(grant.tiers),
                    actions=sorted(grant.actions),
                    central_tier_health_records=grant.central_tier_health_records,
                    reason=reason,
                    granted_by=granted_by,
                )
            )
        await session.flush()
        self.invalidate(subject)

    async def listing(self, session: AsyncSession, *, subject: str | None, history: bool) -> list[GrantRecord]:
        rows = await session.scalars(queries.listing(subject=subject, history=history, now=clock.now()))
        return [record(r) for r in rows]

    async def assign(self, session: AsyncSession, writer: Principal, data: GrantCreate) -> GrantRecord:
        if not await self.known(data.subject):
            raise Refused("unknown principal", errors=[field_error("subject", f"no user or client {data.subject!r}")])
        if data.valid_from and data.valid_to and data.valid_to <= data.valid_from:
            raise Refused("empty validity period", errors=[field_error("valid_to", "must be after valid_from")])
        if problems := flag_errors(data):
            raise Refused(
                "the flag does not fit this grant", errors=[field_error("central_tier_health_records", "; ".join(problems))]
            )
        wanted = Grant(
            unit_path=data.unit_path,
            tiers=frozenset(data.tiers),
            actions=frozenset(data.actions),
            central_tier_health_records=data.central_tier_health_records,
        )
        if not grant_within_own(writer, wanted):
            raise Forbidden("you can only hand out grants within your own", code="out_of_scope")
        await self.resolve(data.subject)  # records the initial grants first, so the history starts with them
        row = GrantRow(
            subject=data.subject,
            unit_path=data.unit_path,
            tiers=sorted(set(data.tiers)),
            actions=sorted(set(data.actions)),
            central_tier_health_records=data.central_tier_health_records,
            valid_from=data.valid_from,
            valid_to=data.valid_to,
            reason=data.reason,
            granted_by=writer.subject,
        )
        session.add(row)
        await session.flush()
        self.invalidate(data.subject)
        return record(row)

    async def revoke(self, session: AsyncSession, writer: Principal, grant_id: uuid.UUID, reason: str) -> GrantRecord:
        row = await session.get(GrantRow, grant_id)
        if row is None or row.revoked_at is not None:
            raise NotFound("no such grant in force")
        held = terms(row).as_grant().model_copy(update={"central_tier_health_records": row.central_tier_health_records})
        if not grant_within_own(writer, held):
            raise NotFound("no such grant in force")  # outside the writer's own grants: not its to see
        row.revoked_at = clock.now()
        row.revoked_by = writer.subject
        row.revoke_reason = reason
        session.add(row)
        await session.flush()
        self.invalidate(row.subject)
        return record(row)

    async def remap(self, session: AsyncSession, event: UnitsReorganized) -> int:
        """Grants on units (or managing bodies) that were merged, split, renamed or dissolved follow them to
        their successors, and never widen (gateway.domain.grant_successors): a grant whose unit has no safe
        successor is revoked, and an administrator decides anew.
        """
        if not event.mapping:
            return 0
        now = clock.now()
        rows: Sequence[GrantRow] = list(await session.scalars(queries.unrevoked()))
        changed = 0
        reason = f"{event.kind} of units effective {event.effective_date.isoformat()}"
        created = [u.path for u in event.created_units]
        for row in rows:
            successors = grant_successors(row.unit_path, event.mapping, created)
            if successors is None or successors == [row.unit_path]:
                continue
            row.revoked_at = now
            row.revoked_by = REORGANISATION
            row.revoke_reason = reason if successors else f"{reason}: every successor of the unit would widen the grant"
            session.add(row)
            for successor in successors:
                session.add(
                    GrantRow(
                        subject=row.subject,
                        unit_path=successor,
                        tiers=list(row.tiers),
                        actions=list(row.actions),
                        central_tier_health_records=row.central_tier_health_records,
                        valid_from=row.valid_from,
                        valid_to=row.valid_to,
                        reason=reason,
                        granted_by=REORGANISATION,
                        granted_at=now,
                        replaces=row.id,
                    )
                )
            changed += 1
        await session.flush()
        self.invalidate()
        return changed
