"""The Idempotency-Key header on every POST: the first successful answer to a key is stored and replayed
for every repeat of it, so a client that retries after a timeout gets what the first attempt did
instead of a second effect (or a 409 about the first one).

Routers made with `ServiceRouter` get it on every POST route. The answer is stored in the request's
own transaction when the route writes through `SessionDep` (the effect and the stored answer commit
together), else in a transaction of its own right after. Refusals (4xx raised by the route) and
server errors are not stored: they changed nothing, and a retry is judged again.
"""

import hashlib
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.common import Problem
from servicekit.auth import current_principal
from servicekit.db import Database
from servicekit.errors import Conflict, DomainError, Refused, field_error, problem_response
from servicekit.sql import insert_ignoring_duplicates

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 200
REPLAYED_HEADER = "idempotent-replayed"
SESSION_STATE = "write_session"  # request.state attribute where SessionDep leaves a write transaction's session

OwnerOf = Callable[[Request], Awaitable[str]]


async def internal_caller(request: Request) -> str:
    """Whose key it is: keys are per caller, so one client never sees another's answer."""
    return (await current_principal(request)).subject


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Refused(
            "invalid Idempotency-Key",
            errors=[field_error(["header", HEADER], f"1 to {MAX_KEY_LENGTH} printable characters")],
        )


def request_hash(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


class KeyTakenMeanwhile(DomainError):
    """A concurrent request with the same key stored its answer first: this one's effects are rolled back."""

    status_code = 409
    code = "idempotency_key_in_use"

    def __init__(self, owner: str, key: str, digest: str) -> None:
        super().__init__("a concurrent request with this Idempotency-Key was answered first")
        self.owner, self.key, self.digest = owner, key, digest


class IdempotencyStore:
    def __init__(self, db: Database, table: Table) -> None:
        self.db = db
        self.table = table

    async def stored(self, owner: str, key: str, digest: str) -> Response | None:
        """The stored answer to this caller's key; Conflict if the key came with another request."""
        table = self.table
        async with self.db.read() as session:
            row = (await session.execute(select(table).where(table.c.owner == owner, table.c.key == key))).first()
        if row is None:
            return None
        if row.request_hash != digest:
            raise Conflict("this Idempotency-Key was already used for a different request", code="idempotency_key_reused")
        return Response(row.body, status_code=row.status_code, media_type=row.media_type, headers={REPLAYED_HEADER: "true"})

    async def remember(self, session: AsyncSession, owner: str, key: str, digest: str, response: Response) -> bool:
        """Store the answer in `session`; False if another request stored one for this key first."""
        row = {
            "owner": owner,
            "key": key,
            "request_hash": digest,
            "status_code": response.status_code,
            "media_type": response.media_type or response.headers.get("content-type", "application/json"),
            "body": bytes(response.body),
            "created_at": datetime.now(UTC),
        }
        result = await session.execute(insert_ignoring_duplicates(session, self.table).values(**row))
        return bool(getattr(result, "rowcount", 1))


def _store_of(request: Request) -> IdempotencyStore:
    runtime = request.app.state.runtime
    return IdempotencyStore(runtime.db, runtime.tables.idempotency_keys)


async def declared_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            max_length=MAX_KEY_LENGTH,
            description="replays the first successful answer to this key; same key with another request: 409",
        ),
    ] = None,
) -> None:
    """Declares the header in the OpenAPI of every POST (honour_key reads it); async: no thread hop."""


class IdempotentRoute(APIRoute):
    """An APIRoute whose POST honours Idempotency-Key (see the module's docstring)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if "POST" in {method.upper() for method in kwargs.get("methods") or ()}:
            kwargs["dependencies"] = [*(kwargs.get("dependencies") or ()), Depends(declared_key)]
            reused = {"model": Problem, "description": "Idempotency-Key reused with a different request"}
            kwargs["responses"] = {409: reused, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if "POST" not in (self.methods or ()):
            return handler

        async def honour_key(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if key is None:
                return await handler(request)
            check_key(key)
            owner_of: OwnerOf = getattr(request.app.state, "idempotency_owner", internal_caller)
            owner = await owner_of(request)
            digest = request_hash(request, await request.body())
            store = _store_of(request)
            if (replay := await store.stored(owner, key, digest)) is not None:
                return replay
            response = await handler(request)
            if response.status_code >= 400 or not isinstance(response.body, bytes | memoryview):
                return response
            session: AsyncSession | None = getattr(request.state, SESSION_STATE, None)
            if session is not None:  # still open: the answer commits with the effect
                if not await store.remember(session, owner, key, digest, response):
                    raise KeyTakenMeanwhile(owner, key, digest)
                return response
            async with store.db.transaction() as own:
                await store.remember(own, owner, key, digest, response)
            return response

        return honour_key


def ServiceRouter(**kwargs: Any) -> APIRouter:
    """The APIRouter of every service: its POST routes honour Idempotency-Key."""
    return APIRouter(route_class=IdempotentRoute, **kwargs)


def install_idempotency(app: FastAPI, owner_of: OwnerOf = internal_caller) -> None:
    app.state.idempotency_owner = owner_of

    async def on_key_taken(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KeyTakenMeanwhile)
        try:
            replay = await _store_of(request).stored(exc.owner, exc.key, exc.digest)
        except Conflict as reused:
            return problem_response(reused.status_code, reused.code, reused.detail)
        return replay or problem_response(exc.status_code, exc.code, exc.detail)

    app.add_exception_handler(KeyTakenMeanwhile, on_key_taken)
