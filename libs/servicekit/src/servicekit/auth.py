"""Who calls a service: the gateway's short-lived internal token, verified on every request.

A service never trusts a bare header: the token is an EdDSA-signed JWT whose claims carry the
principal and its grants. What the grants let a caller see is servicekit.scope.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import jwt
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
    def __init__(self, public_key_file: Path, audience: str = "cadrecare-internal") -> None:
        self.public_key_file = public_key_file
        self.audience = audience
        self._key: bytes | None = None

    def _public_key(self) -> bytes:
        if self._key is None:
            try:
                self._key = self.public_key_file.read_bytes()
            except FileNotFoundError as exc:
                raise Unauthenticated("the service has no key to verify callers") from exc
        return self._key

    def verify(self, token: str) -> Principal:
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
            return Principal.model_validate(claims["principal"])
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise Unauthenticated(f"invalid internal token: {exc}") from exc


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("a bearer token is required")
    return token


def current_principal(request: Request) -> Principal:
    verifier: InternalTokenVerifier = request.app.state.verifier
    return verifier.verify(bearer_token(request))


CallerDep = Annotated[Principal, Depends(current_principal)]


def require_permission(principal: Principal, permission: Permission | str) -> None:
    if not principal.has_permission(permission):
        raise Forbidden(f"the caller lacks the permission '{permission!s}'", code="permission_denied")


def permitted(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller, if it holds `permission` (403 permission_denied otherwise).

    Routes declare it through a typed alias, e.g.
    `CadreReader = Annotated[Principal, Depends(permitted(Permission.REGISTRY_CADRES_READ))]`.
    """

    async def dependency(caller: CallerDep) -> Principal:  # async: no thread hop per request
        require_permission(caller, permission)
        return caller

    dependency.__name__ = f"permitted_{permission.name.lower()}"
    return dependency
