"""Who is calling: tokens of the built-in issuer, or of an external OpenID Connect provider (by its
issuer URL and JWKS). Every decode names its algorithms explicitly: never "none", never HMAC."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
from cachetools import LRUCache

from gateway.auth.tokens import TokenIssuer
from gateway.settings import OidcProvider
from servicekit import clock
from servicekit.retry import Every

ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})


@dataclass(frozen=True)
class VerifiedToken:
    subject: str  # the local principal the token speaks for
    jti: str
    expires_at: datetime
    issuer: str
    claims: dict[str, Any] = field(default_factory=dict)
    external: bool = False


class JwksCache:
    """An external provider's signing keys, fetched on first use and again (at most every
    `min_refresh_seconds`) when a token names a key id not seen yet (key rotation)."""

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        *,
        min_refresh_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.client = client
        self.min_refresh_seconds = min_refresh_seconds
        self.monotonic = monotonic
        self.keys: dict[str, jwt.PyJWK] = {}
        self._refresh_allowed = Every(min_refresh_seconds, monotonic)  # an unknown key id cannot make us hammer the provider

    async def refresh(self) -> None:
        response = await self.client.get(self.url, timeout=5)
        response.raise_for_status()
        key_set = jwt.PyJWKSet.from_dict(response.json())
        self.keys = {key.key_id: key for key in key_set.keys if key.key_id}
        self._refresh_allowed.mark()

    async def key(self, kid: str) -> jwt.PyJWK:
        if kid not in self.keys and self._refresh_allowed.due():
            try:
                await self.refresh()
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                self._refresh_allowed.again()  # a failed fetch is asked again at the next unknown key
                raise jwt.InvalidTokenError(f"the provider's keys are unavailable: {type(exc).__name__}") from exc
        if kid not in self.keys:
            raise jwt.InvalidTokenError("unknown key id")
        return self.keys[kid]


class ExternalIssuer:
    def __init__(self, provider: OidcProvider, client: httpx.AsyncClient) -> None:
        unsafe = set(provider.algorithms) - ASYMMETRIC_ALGORITHMS
        if unsafe:
            raise ValueError(f"refused algorithms for {provider.issuer}: {sorted(unsafe)} (asymmetric only)")
        self.provider = provider
        self.jwks = JwksCache(provider.jwks_url, client, min_refresh_seconds=provider.jwks_refresh_seconds)

    async def verify(self, token: str) -> VerifiedToken:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise jwt.InvalidTokenError("the token names no key id")
        key = await self.jwks.key(kid)
        if header.get("alg") not in self.provider.algorithms or (key.algorithm_name and header["alg"] != key.algorithm_name):
            raise jwt.InvalidAlgorithmError("the token's algorithm is not allowed for this key")
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=self.provider.algorithms,
            audience=self.provider.audience,
            issuer=self.provider.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
        username = claims.get(self.provider.username_claim)
        if not isinstance(username, str) or not username:
            raise jwt.InvalidTokenError(f"the token has no {self.provider.username_claim!r} claim")
        return VerifiedToken(
            subject=f"user:{username}",
            jti=str(claims.get("jti") or f"{claims['sub']}:{claims['iat']}"),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            issuer=self.provider.issuer,
            claims=claims,
            external=True,
        )


class Authenticator:
    """Dispatches on the (unverified) issuer claim, then verifies with that issuer's keys only.

    A token whose signature was verified is remembered until it expires (clients send the same access
    token for its whole life): the signature check is not repeated, the expiry is; revocation is checked
    by the caller on every request.
    """

    def __init__(self, own: TokenIssuer, providers: list[ExternalIssuer], *, remembered: int = 10_000) -> None:
        self.own = own
        self.external = {p.provider.issuer: p for p in providers}
        self.remembered = remembered
        self._verified: LRUCache[str, VerifiedToken] = LRUCache(maxsize=remembered)

    async def verify(self, token: str) -> VerifiedToken:
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at > clock.now():
                return known
            del self._verified[token]
            raise jwt.ExpiredSignatureError("Signature has expired")
        verified = await self._verify(token)
        self._verified[token] = verified
        return verified

    async def _verify(self, token: str) -> VerifiedToken:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise jwt.InvalidTokenError(f"malformed token: {exc}") from exc
        issuer = unverified.get("iss")
        if issuer == self.own.issuer:
            claims = self.own.verify(token)
            return VerifiedToken(
                subject=claims["sub"],
                jti=claims["jti"],
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
                issuer=self.own.issuer,
                claims=claims,
            )
        if isinstance(issuer, str) and issuer in self.external:
            return await self.external[issuer].verify(token)
        raise jwt.InvalidIssuerError("the token's issuer is not trusted")
