"""Everything the running gateway holds, and the dependency that turns a request's token into a caller
with its grants resolved now (from the gateway's database, not from the token).

The gateway's caller is not servicekit's: it comes from a user's token (built-in issuer or an external
OpenID Connect provider), not from the internal token, so the gateway has its own `permitted`.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

import jwt
from cachetools import LRUCache
from fastapi import Depends, Request

from contracts.permissions import Permission
from contracts.scope import Grant, Principal
from gateway.audit.trail import AuditEntry, AuditTrail, outcome_of
from gateway.auth.oidc import Authenticator, VerifiedToken
from gateway.auth.sessions import Sessions
from gateway.auth.tokens import TokenIssuer
from gateway.break_glass.store import BreakGlass, OpenGlass
from gateway.forwarding.limits import RateLimiter
from gateway.forwarding.proxy import Proxy
from gateway.grants.store import GrantStore
from gateway.identities.store import IdentityStore
from gateway.identity import Directory
from gateway.settings import GatewaySettings
from servicekit.auth import Unauthenticated, bearer_token, require_permission
from servicekit.logs import current_correlation_id
from servicekit.runtime import Runtime

ON_BEHALF_HEADER = "x-on-behalf-of"
API_PREFIX = "/api/v1"  # the platform's API: the gateway's own routes and every service's, forwarded


@dataclass
class Gateway:
    settings: GatewaySettings
    runtime: Runtime[GatewaySettings]
    directory: Directory  # the principals file: the seed of `identities`
    identities: IdentityStore  # who may sign in
    issuer: TokenIssuer
    authenticator: Authenticator
    grants: GrantStore
    break_glass: BreakGlass
    audit: AuditTrail
    sessions: Sessions
    limiter: RateLimiter
    token_limiter: RateLimiter
    proxy: Proxy
    _with_grants: LRUCache[str, tuple[Principal, tuple[Grant, ...], Principal]] = field(
        default_factory=lambda: LRUCache(maxsize=10_000)
    )

    def with_grants(self, known: Principal, grants: tuple[Grant, ...]) -> Principal:
        """The principal with its grants as resolved now: the same object as long as neither was re-read (the
        caches hand out the same objects), so that the internal token signed for it is found by identity, not
        by hashing every grant again on each request."""
        last = self._with_grants.get(known.subject)
        if last is not None and last[0] is known and last[1] is grants:
            return last[2]
        principal = known.model_copy(update={"grants": grants})
        self._with_grants[known.subject] = (known, grants, principal)
        return principal


@dataclass(frozen=True)
class Caller:
    principal: Principal  # grants as resolved for this request
    token: VerifiedToken
    opened: tuple[OpenGlass, ...]  # break-the-glass accesses in force
    client_address: str | None
    on_behalf_of: str | None

    def entry(self, operation: str, method: str, path: str, status: int, **values: object) -> AuditEntry:
        return AuditEntry.by(
            self.principal,
            operation=operation,
            method=method,
            path=path,
            status_code=status,
            outcome=outcome_of(status),
            client_address=self.client_address,
            on_behalf_of=self.on_behalf_of,
            correlation_id=current_correlation_id(),
            **values,
        )


async def gateway_of(request: Request) -> Gateway:
    """Async: FastAPI runs a sync dependency in a worker thread, a thread hop on every request."""
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(gateway_of)]


async def verified_token(request: Request, gateway: GatewayDep) -> VerifiedToken:
    token = bearer_token(request)
    try:
        verified = await gateway.authenticator.verify(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    if await gateway.sessions.is_revoked(verified.jti):
        raise Unauthenticated("the token has been revoked")
    return verified


async def token_subject(request: Request) -> str:
    """Whose Idempotency-Key a request carries: the subject of its verified token."""
    return (await verified_token(request, await gateway_of(request))).subject


async def current_caller(
    request: Request, gateway: GatewayDep, token: Annotated[VerifiedToken, Depends(verified_token)]
) -> Caller:
    known = await gateway.identities.principal(token.subject)
    if known is None:
        raise Unauthenticated("the token's subject is not known here")
    gateway.limiter.check(known.subject)
    principal = gateway.with_grants(known, await gateway.grants.resolve(known.subject))
    on_behalf = request.headers.get(ON_BEHALF_HEADER)
    return Caller(
        principal=principal,
        token=token,
        opened=await gateway.break_glass.open_for(known.subject),
        client_address=request.client.host if request.client else None,
        on_behalf_of=on_behalf[:200] if on_behalf else None,
    )


CallerDep = Annotated[Caller, Depends(current_caller)]


def permitted(permission: Permission) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency: the caller, if it holds the permission (checked before the body is even parsed).

    Routes declare it through a typed alias, e.g.
    `GrantsReader = Annotated[Caller, Depends(permitted(Permission.GATEWAY_GRANTS_READ))]`.
    """

    async def dependency(caller: CallerDep) -> Caller:
        require_permission(caller.principal, permission.value)  # the detail names the string, not the enum member
        return caller

    dependency.__name__ = f"permitted_{permission.name.lower()}"
    return dependency


def request_target(request: Request) -> str:
    """The path and query a caller asked for, as the audit trail records it."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")
