"""Sign-in use cases: the OAuth2 token grants (password for staff, client credentials for HIS clients and
jobs, refresh with rotation), revocation (RFC 7009), logout, and the issuer's discovery document."""

from dataclasses import dataclass
from typing import Any

import jwt

from contracts.api.auth import TokenResponse
from contracts.scope import Principal
from gateway.audit.trail import AuditEntry
from gateway.auth.sessions import RefreshRefused
from gateway.context import API_PREFIX, Caller, Gateway
from gateway.identities.store import SignIn
from servicekit.errors import DomainError
from servicekit.logs import current_correlation_id

GRANT_TYPES = ("password", "client_credentials", "refresh_token")
# One answer for a wrong secret, an unknown name and a locked account: a guesser learns none of them apart.
WRONG_CREDENTIALS = "wrong credentials (an account is locked for a while after repeated failed sign-ins)"
LOCKED = "gateway:signin.locked"


class InvalidGrant(DomainError):
    status_code = 400
    code = "invalid_grant"


@dataclass(frozen=True)
class TokenRequest:
    """The token endpoint's form: which fields count depends on grant_type."""

    grant_type: str
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None


async def issue_token(gateway: Gateway, form: TokenRequest, client_address: str) -> TokenResponse:
    """Rate-limited per client address; a password grant also opens a session (a refresh token)."""
    gateway.token_limiter.check(client_address)
    principal: Principal | None
    with_refresh = False
    new_refresh: str | None = None
    if form.grant_type == "password" and form.username and form.password:
        signed_in = await gateway.identities.authenticate_user(form.username, form.password)
        if signed_in.locked_now:
            await gateway.audit.append(locked_entry(gateway, signed_in, client_address))
        principal, with_refresh = signed_in.principal, True
    elif form.grant_type == "client_credentials" and form.client_id and form.client_secret:
        principal = await gateway.identities.authenticate_client(form.client_id, form.client_secret)
    elif form.grant_type == "refresh_token" and form.refresh_token:
        try:
            subject, new_refresh = await gateway.sessions.rotate(form.refresh_token)
        except RefreshRefused as exc:
            raise InvalidGrant(str(exc)) from exc
        principal = await gateway.identities.principal(subject)
    else:
        raise InvalidGrant(
            "grant_type must be password (username, password), client_credentials (client_id, client_secret)"
            " or refresh_token (refresh_token)"
        )
    if principal is None:
        raise InvalidGrant(WRONG_CREDENTIALS)
    access_token, expires_in = gateway.issuer.issue(principal)
    if with_refresh:
        new_refresh = await gateway.sessions.issue_refresh(principal.subject)
    return TokenResponse(access_token=access_token, expires_in=expires_in, refresh_token=new_refresh)


def locked_entry(gateway: Gateway, signed_in: SignIn, client_address: str) -> AuditEntry:
    """The lockout in the audit trail, as the locked account's own event (no administrator acted)."""
    settings = gateway.settings
    return AuditEntry(
        actor=signed_in.subject or "",
        actor_kind=signed_in.kind,
        actor_unit=signed_in.unit_path,
        operation=LOCKED,
        method="POST",
        path=f"{API_PREFIX}/auth/token",
        outcome="denied",
        status_code=400,
        client_address=client_address,
        correlation_id=current_correlation_id(),
        detail=f"{settings.signin_max_failures} failed sign-ins: locked for {settings.signin_lockout_minutes:g} minutes",
    )


async def revoke(gateway: Gateway, token: str) -> bool:
    """A refresh token revokes its whole session; an access token is revoked by its jti. Unknown: False."""
    if await gateway.sessions.revoke_refresh(token):
        return True
    try:
        verified = await gateway.authenticator.verify(token)
    except jwt.PyJWTError:
        return False
    await gateway.sessions.revoke_access(verified.jti, verified.subject, verified.expires_at)
    return True


async def logout(gateway: Gateway, caller: Caller, refresh_token: str | None) -> None:
    await gateway.sessions.revoke_access(caller.token.jti, caller.token.subject, caller.token.expires_at)
    if refresh_token:
        await gateway.sessions.revoke_refresh(refresh_token)


def openid_configuration(gateway: Gateway, base: str) -> dict[str, Any]:
    return {
        "issuer": gateway.issuer.issuer,
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "token_endpoint": f"{base}{API_PREFIX}/auth/token",
        "revocation_endpoint": f"{base}{API_PREFIX}/auth/revoke",
        "grant_types_supported": list(GRANT_TYPES),
        "id_token_signing_alg_values_supported": ["RS256"],
    }
