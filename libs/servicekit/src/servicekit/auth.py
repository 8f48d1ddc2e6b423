"""Who calls a service: the gateway's short-lived internal token, verified on every request.

A service never trusts a bare header: the token is an EdDSA-signed JWT whose claims carry the
principal and its grants. What the grants let a caller see is servicekit.scope.
"""

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import jwt
from cachetools import LRUCache
from fastapi import Depends, Request

from contracts.permissions import Permission
from contracts.scope import Principal
from servicekit.errors import DomainError, Forbidden
from servicekit.scope import scope_filter as scope_filter  # services still import it from here
from servicekit.scope import within_unit as within_unit

INTERNAL_ISSUER = "cadrecare-gateway"
ALGORITHMS = ["EdDSA"]  # explicit: never "none", never an HMAC algorithm with a public key


class Unauthenticated(DomainError):
    status_code = 401
    code = "unauthenticated"


class InternalTokenSigner:
    """Used by the gateway (and by tests acting as the gateway)."""

    def __init__(self, private_key_pem: bytes, audience: str = "cadrecare-internal", ttl_seconds: int = 60) -> None:
        self.private_key = private_key_pem
        self.audience = audience
        self.ttl = timedelta(seconds=ttl_seconds)

    def sign(self, principal: Principal, correlation_id: str | None = None) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": INTERNAL_ISSUER,
            "aud": self.audience,
            "sub": principal.subject,
            "iat": now,
            "nbf": now - timedelta(seconds=5),
            "exp": now + self.ttl,
            "principal": principal.model_dump(mode="json"),
            "cid": correlation_id,
        }
        return jwt.encode(claims, self.private_key, algorithm="EdDSA")


class InternalTokenVerifier:
    """Verifies the signature once per token: the gateway re-uses a token for many requests (20 s), and an
    Ed25519 verification plus the principal's validation cost more than the rest of a small request's
    checks. A verified token is remembered until its own expiry, never longer."""

    def __init__(self, public_key_file: Path, audience: str = "cadrecare-internal", cache_size: int = 4096) -> None:
        self.public_key_file = public_key_file
        self.audience = audience
        self._key: bytes | None = None
        self._verified: LRUCache[str, tuple[Principal, float]] = LRUCache(maxsize=cache_size)

    def _public_key(self) -> bytes:
        if self._key is None:
            try:
                self._key = self.public_key_file.read_bytes()
            except FileNotFoundError as exc:
                raise Unauthenticated("the service has no key to verify callers") from exc
        return self._key

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        principal, expires = self._decode(token)
        self._verified[token] = (principal, expires)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._public_key(),
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=INTERNAL_ISSUER,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
                leeway=5,
            )
            return Principal.model_validate(claims["principal"]), float(claims["exp"])
        except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
            raise Unauthenticated(f"invalid internal token: {exc}") from exc


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("a bearer token is required")
    return token


async def current_principal(request: Request) -> Principal:
    """Async: a sync dependency would run in a worker thread, a thread hop on every request."""
    verifier: InternalTokenVerifier = request.app.state.verifier
    return verifier.verify(bearer_token(request))


CallerDep = Annotated[Principal, Depends(current_principal)]


def require_permission(principal: Principal, permission: Permission | str) -> None:
    if not principal.has_permission(permission):
        raise Forbidden(f"the caller lacks the permission '{permission!s}'", code="permission_denied")


def require_any_permission(principal: Principal, any_of: tuple[Permission, ...]) -> None:
    if len(any_of) == 1:
        require_permission(principal, any_of[0])  # the same words as ever for a route that needs one
    elif not any(principal.has_permission(permission) for permission in any_of):
        named = " or ".join(f"'{permission!s}'" for permission in any_of)
        raise Forbidden(f"the caller lacks the permission {named}", code="permission_denied")


# Where permitted() leaves the permissions on its dependency, so that a route's requirement can be read
# off the route itself (servicekit.route_permissions) instead of being repeated in a hand-kept list.
PERMISSIONS_ATTRIBUTE = "__cadrecare_permissions__"


def permissions_of(dependency: object) -> tuple[Permission, ...]:
    """The permissions (any one suffices) a permitted() dependency checks; () for any other callable."""
    declared = getattr(dependency, PERMISSIONS_ATTRIBUTE, ())
    return tuple(declared) if isinstance(declared, tuple) else ()


def permitted_any(*any_of: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller, if it holds at least one of `any_of` (403 permission_denied otherwise).

    For a route more than one kind of caller may use, e.g. a record read back both by the board
    (clinical.read) and by the facility that posted it (clinical.read_own).
    """
    if not any_of:
        raise ValueError("permitted_any needs at least one permission")
    ordered = tuple(dict.fromkeys(any_of))

    async def dependency(caller: CallerDep) -> Principal:  # async: no thread hop per request
        require_any_permission(caller, ordered)
        return caller

    dependency.__name__ = "permitted_" + "_or_".join(permission.name.lower() for permission in ordered)
    setattr(dependency, PERMISSIONS_ATTRIBUTE, ordered)
    return dependency


def permitted(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller, if it holds `permission` (403 permission_denied otherwise).

    Routes declare it through a typed alias, e.g.
    `CadreReader = Annotated[Principal, Depends(permitted(Permission.REGISTRY_CADRES_READ))]`;
    the gateway's route table is derived from these declarations (contracts.route_permissions).
    """
    return permitted_any(permission)
