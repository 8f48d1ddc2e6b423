"""Identity administration use cases: a board's administrators list, create, disable and re-enable the users and
HIS clients of their own scope, unlock a user, set a user's password and rotate a client's secret.

What an administrator sees and gives is bounded by its own grants and permissions (gateway.domain:
administers, role_beyond_own); anything else is invisible (404) or refused (403 out_of_scope). Every change,
and every refusal of one, is audited after its transaction has committed (on SQLite the audit writer would
otherwise wait for the request's own write lock)."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import roles
from contracts.api.identities import (
    HisClientCreate,
    HisClientSecret,
    Identity,
    IdentityDisable,
    PasswordSet,
    RoleInfo,
    UserCreate,
)
from contracts.scope import Grant, Principal, PrincipalKind
from gateway.context import Caller, Gateway
from gateway.domain import administers, password_problems, role_beyond_own
from gateway.identities import queries
from gateway.identity import ROLE_TEMPLATES, hash_secret
from gateway.tables import IdentityRow
from servicekit import clock
from servicekit.errors import Conflict, DomainError, Forbidden, NotFound, Refused, field_error
from servicekit.scope import NATION

T = TypeVar("T")
DETAIL_LIMIT = 2000
HIS_ROLE = "his_client"
NOT_FOR_USERS = frozenset({HIS_ROLE})  # a hospital signs in with client credentials: POST /gateway/his-clients


def view(row: IdentityRow, grants: tuple[Grant, ...], gateway: Gateway) -> Identity:
    locked = gateway.identities.lockout.locked(row.locked_until, clock.now())
    status = "disabled" if row.disabled_at is not None else ("locked" if locked else "active")
    return Identity.model_validate(
        {**row.model_dump(), "grants": list(grants), "status": status, "locked_until": row.locked_until if locked else None}
    )


async def audited(
    gateway: Gateway, caller: Caller, operation: str, target: str, status: int, detail: str, work: Callable[[], Awaitable[T]]
) -> T:
    """Run an administrative action; record it, or its refusal, in the audit trail once it has committed."""
    try:
        result = await work()
    except DomainError as refused:
        entry = caller.entry(operation, "POST", target, refused.status_code, detail=f"{detail}: {refused.detail}"[:DETAIL_LIMIT])
        await gateway.audit.append(entry)
        raise
    await gateway.audit.append(caller.entry(operation, "POST", target, status, detail=detail[:DETAIL_LIMIT]))
    return result


async def _grants(gateway: Gateway, session: AsyncSession, rows: list[IdentityRow]) -> dict[str, tuple[Grant, ...]]:
    return await gateway.grants.held_by(session, (row.subject for row in rows))


async def _with_file_grants(gateway: Gateway, rows: list[IdentityRow], held: dict[str, tuple[Grant, ...]]) -> None:
    """A principal the file added since start-up has its initial grants recorded on first sight (outside any
    transaction: the grant store opens its own)."""
    for row in rows:
        if row.source == "file" and not held[row.subject]:
            held[row.subject] = await gateway.grants.resolve(row.subject)


async def listing(gateway: Gateway, caller: Caller, login: str) -> list[Identity]:
    admin = caller.principal
    async with gateway.runtime.db.read() as session:
        rows = list(await session.scalars(queries.listing(admin, login)))
        held = await _grants(gateway, session, rows)
    await _with_file_grants(gateway, rows, held)
    return [view(row, held[row.subject], gateway) for row in rows if administers(admin, row.unit_path, held[row.subject])]


async def _administered(gateway: Gateway, admin: Principal, subject: str, login: str) -> tuple[IdentityRow, tuple[Grant, ...]]:
    """The row, if it is the administrator's to see; else 404, as for a row that does not exist."""
    async with gateway.runtime.db.read() as session:
        row = await session.scalar(queries.one(admin, subject))
        held = await _grants(gateway, session, [row] if row is not None else [])
    if row is not None and row.login == login:
        await _with_file_grants(gateway, [row], held)
        if administers(admin, row.unit_path, held[subject]):
            return row, held[subject]
    raise NotFound("no such user or client in your scope")


async def one(gateway: Gateway, caller: Caller, subject: str, login: str) -> Identity:
    row, grants = await _administered(gateway, caller.principal, subject, login)
    return view(row, grants, gateway)


def roles_for(caller: Caller) -> list[RoleInfo]:
    """The role templates whose permissions the caller holds (their grants are checked against the unit)."""
    return [
        RoleInfo(name=name, kind=template.kind.value, scoped=template.scoped, permissions=sorted(template.permissions))
        for name, template in ROLE_TEMPLATES.items()
        if name not in NOT_FOR_USERS and template.permissions <= caller.principal.permissions
    ]


def _user_role(
    admin: Principal, body: UserCreate, min_length: int
) -> tuple[PrincipalKind, str, tuple[Grant, ...], frozenset[str]]:
    """The role's kind, unit, grants and permissions, if the body names a role the administrator may give."""
    template = ROLE_TEMPLATES.get(body.role)
    errors = []
    if template is None or body.role in NOT_FOR_USERS:
        errors.append(field_error("role", f"no role {body.role!r} for users: see GET /api/v1/gateway/roles"))
    elif template.scoped and body.unit is None:
        errors.append(field_error("unit", f"role {body.role!r} needs the unit it applies to"))
    elif not template.scoped and body.unit is not None:
        errors.append(field_error("unit", f"role {body.role!r} applies everywhere and takes no unit"))
    errors += [
        field_error("password", p) for p in password_problems(body.password, username=body.username, min_length=min_length)
    ]
    if errors or template is None:
        raise Refused("the user cannot be created as asked", errors=errors)
    unit = body.unit or NATION
    grants = template.grants(unit)
    beyond = role_beyond_own(admin, grants, template.permissions)
    if beyond or not administers(admin, unit, grants):
        raise Forbidden(
            "you can only create people within your own scope, with no more than you hold",
            code="out_of_scope",
            errors=[field_error("role", f"beyond your own: {'; '.join(beyond) or 'the unit ' + unit}")],
        )
    return template.kind, unit, grants, template.permissions


async def _insert(gateway: Gateway, session: AsyncSession, row: IdentityRow, grants: tuple[Grant, ...], reason: str) -> None:
    taken = Conflict(
        f"{row.subject} exists already",
        code="identity_exists",
        errors=[field_error("username" if row.login == "user" else "client_id", "is taken")],
    )
    if await session.get(IdentityRow, row.subject) is not None:
        raise taken
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as raced:  # created meanwhile by a concurrent request (or another replica)
        raise taken from raced
    await gateway.grants.give(session, row.subject, grants, granted_by=row.created_by, reason=reason)
    gateway.identities.invalidate(row.subject)


async def create_user(gateway: Gateway, caller: Caller, body: UserCreate, target: str) -> Identity:
    async def work() -> Identity:
        kind, unit, grants, permissions = _user_role(caller.principal, body, gateway.settings.password_min_length)
        secret_hash = await asyncio.to_thread(hash_secret, body.password)
        row = IdentityRow(
            subject=f"user:{body.username}", login="user", name=body.username, kind=kind.value, display_name=body.display_name,
            role=body.role, unit_path=unit, permissions=sorted(permissions), secret_hash=secret_hash, source="api",
            created_by=caller.principal.subject,
        )  # fmt: skip
        async with gateway.runtime.db.transaction() as session:
            await _insert(gateway, session, row, grants, f"role {body.role} on {unit}")
        return view(row, grants, gateway)

    detail = f"user:{body.username} as {body.role} on {body.unit or NATION}"
    return await audited(gateway, caller, "gateway:user.create", target, 201, detail, work)


async def create_client(gateway: Gateway, caller: Caller, body: HisClientCreate, target: str) -> HisClientSecret:
    """A HIS client's permissions are the hospital interface's, which no staff role holds: registering one needs
    the administration permission and grants within the administrator's own, not the permissions themselves."""

    async def work() -> HisClientSecret:
        grants = roles.his_client(body.unit)
        if not administers(caller.principal, body.unit, grants):
            raise Forbidden(
                "you can only register hospitals within your own scope",
                code="out_of_scope",
                errors=[field_error("unit", f"beyond your own: writing every tier's records on {body.unit}")],
            )
        secret = secrets.token_urlsafe(32)
        row = IdentityRow(
            subject=f"client:{body.client_id}", login="client", name=body.client_id, kind=PrincipalKind.HIS.value,
            display_name=body.display_name, role=HIS_ROLE, unit_path=body.unit, facility=body.facility,
            permissions=sorted(roles.HIS_PERMISSIONS), secret_hash=await asyncio.to_thread(hash_secret, secret),
            source="api", created_by=caller.principal.subject,
        )  # fmt: skip
        async with gateway.runtime.db.transaction() as session:
            await _insert(gateway, session, row, grants, f"HIS client of facility {body.facility} on {body.unit}")
        return HisClientSecret(client=view(row, grants, gateway), client_secret=secret)

    detail = f"client:{body.client_id} for facility {body.facility} on {body.unit}"
    return await audited(gateway, caller, "gateway:his_client.create", target, 201, detail, work)


Change = Callable[[IdentityRow], None]


async def change(
    gateway: Gateway, caller: Caller, subject: str, login: str, apply: Change, *, end_sessions: bool = False
) -> Identity:
    """Apply a change to an identity the caller administers (404 otherwise); caches forget it at once."""
    _, grants = await _administered(gateway, caller.principal, subject, login)
    async with gateway.runtime.db.transaction() as session:
        row = await session.scalar(queries.one(caller.principal, subject))
        if row is None:
            raise NotFound("no such user or client in your scope")
        apply(row)
        session.add(row)
        if end_sessions:  # re-enabling it later must not bring its old sessions back
            await gateway.sessions.close_all(session, subject)
        await session.flush()
    gateway.identities.invalidate(subject)
    gateway.grants.invalidate(subject)
    return view(row, grants, gateway)


def _operation(login: str, action: str) -> str:
    return f"gateway:{'user' if login == 'user' else 'his_client'}.{action}"


async def set_disabled(
    gateway: Gateway, caller: Caller, subject: str, login: str, body: IdentityDisable | None, target: str
) -> Identity:
    def apply(row: IdentityRow) -> None:
        if body is None:
            row.disabled_at = row.disabled_by = row.disable_reason = None
            row.failed_signins, row.locked_until = 0, None
        else:
            row.disabled_at, row.disabled_by, row.disable_reason = clock.now(), caller.principal.subject, body.reason

    async def work() -> Identity:
        if body is not None and subject == caller.principal.subject:
            raise Refused("you cannot disable yourself", errors=[field_error("subject", "is your own account")])
        return await change(gateway, caller, subject, login, apply, end_sessions=body is not None)

    detail = subject if body is None else f"{subject}; {body.reason}"
    return await audited(gateway, caller, _operation(login, "enable" if body is None else "disable"), target, 200, detail, work)


async def unlock(gateway: Gateway, caller: Caller, subject: str, target: str) -> Identity:
    def apply(row: IdentityRow) -> None:
        row.failed_signins, row.locked_until = 0, None

    return await audited(
        gateway, caller, "gateway:user.unlock", target, 200, subject, lambda: change(gateway, caller, subject, "user", apply)
    )


async def set_password(gateway: Gateway, caller: Caller, subject: str, body: PasswordSet, target: str) -> Identity:
    """An administrator sets a user's new password (the user forgot it); it also unlocks the account."""

    async def work() -> Identity:
        await _administered(gateway, caller.principal, subject, "user")  # out of scope: 404 before the policy speaks
        username = subject.removeprefix("user:")
        problems = password_problems(body.password, username=username, min_length=gateway.settings.password_min_length)
        if problems:
            raise Refused("the password does not meet the policy", errors=[field_error("password", p) for p in problems])
        secret_hash = await asyncio.to_thread(hash_secret, body.password)

        def apply(row: IdentityRow) -> None:
            row.secret_hash, row.secret_changed_at, row.failed_signins, row.locked_until = secret_hash, clock.now(), 0, None

        return await change(gateway, caller, subject, "user", apply)

    return await audited(gateway, caller, "gateway:user.password", target, 200, subject, work)


async def rotate_secret(gateway: Gateway, caller: Caller, subject: str, target: str) -> HisClientSecret:
    """A new secret, shown once; the old one stops working now."""

    async def work() -> HisClientSecret:
        await _administered(gateway, caller.principal, subject, "client")
        secret = secrets.token_urlsafe(32)
        secret_hash = await asyncio.to_thread(hash_secret, secret)

        def apply(row: IdentityRow) -> None:
            row.secret_hash, row.secret_changed_at = secret_hash, clock.now()

        return HisClientSecret(client=await change(gateway, caller, subject, "client", apply), client_secret=secret)

    return await audited(gateway, caller, "gateway:his_client.rotate_secret", target, 200, subject, work)
