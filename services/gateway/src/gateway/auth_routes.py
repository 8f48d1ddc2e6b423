"""`/api/v1/auth/*`: tokens (password, client credentials, refresh), revocation, who am I; and the JWKS."""

from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Form, Request

from contracts.api.auth import TokenResponse
from contracts.scope import Principal
from gateway.context import CallerDep, GatewayDep
from gateway.sessions import RefreshRefused
from servicekit.errors import DomainError

router = APIRouter(tags=["auth"])


class InvalidGrant(DomainError):
    status_code = 400
    code = "invalid_grant"


@router.post("/auth/token", response_model=TokenResponse, responses={400: {"description": "wrong credentials or grant"}})
async def token(
    request: Request,
    gateway: GatewayDep,
    grant_type: Annotated[str, Form()],
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
) -> TokenResponse:
    """OAuth2 password grant (staff users), client-credentials grant (HIS clients, jobs), refresh-token grant."""
    gateway.token_limiter.check(request.client.host if request.client else "unknown")
    principal: Principal | None
    with_refresh = False
    new_refresh: str | None = None
    if grant_type == "password" and username and password:
        principal, with_refresh = gateway.directory.authenticate_user(username, password), True
    elif grant_type == "client_credentials" and client_id and client_secret:
        principal = gateway.directory.authenticate_client(client_id, client_secret)
    elif grant_type == "refresh_token" and refresh_token:
        try:
            subject, new_refresh = await gateway.sessions.rotate(refresh_token)
        except RefreshRefused as exc:
            raise InvalidGrant(str(exc)) from exc
        principal = gateway.directory.principal(subject)
    else:
        raise InvalidGrant(
            "grant_type must be password (username, password), client_credentials (client_id, client_secret)"
            " or refresh_token (refresh_token)"
        )
    if principal is None:
        raise InvalidGrant("wrong credentials")
    access_token, expires_in = gateway.issuer.issue(principal)
    if with_refresh:
        new_refresh = await gateway.sessions.issue_refresh(principal.subject)
    return TokenResponse(access_token=access_token, expires_in=expires_in, refresh_token=new_refresh)


@router.post("/auth/revoke", status_code=200, response_model=dict[str, bool])
async def revoke(gateway: GatewayDep, token: Annotated[str, Form()]) -> dict[str, bool]:
    """RFC 7009: revoke a refresh token (its whole session) or an access token. Unknown tokens are not an error."""
    if await gateway.sessions.revoke_refresh(token):
        return {"revoked": True}
    try:
        verified = await gateway.authenticator.verify(token)
    except jwt.PyJWTError:
        return {"revoked": False}
    await gateway.sessions.revoke_access(verified.jti, verified.subject, verified.expires_at)
    return {"revoked": True}


@router.post("/auth/logout", status_code=200, response_model=dict[str, bool])
async def logout(caller: CallerDep, gateway: GatewayDep, refresh_token: Annotated[str | None, Form()] = None) -> dict[str, bool]:
    """End the caller's session: its access token and (if given) its refresh token stop working now."""
    await gateway.sessions.revoke_access(caller.token.jti, caller.token.subject, caller.token.expires_at)
    if refresh_token:
        await gateway.sessions.revoke_refresh(refresh_token)
    return {"revoked": True}


@router.get("/auth/me", response_model=Principal)
async def me(caller: CallerDep) -> Principal:
    """The caller as the services see it: kind, permissions and the grants in force now."""
    return caller.principal


well_known = APIRouter(include_in_schema=False)


@well_known.get("/.well-known/jwks.json")
async def jwks(gateway: GatewayDep) -> dict[str, Any]:
    return gateway.issuer.jwks


@well_known.get("/.well-known/openid-configuration")
async def openid_configuration(request: Request, gateway: GatewayDep) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {
        "issuer": gateway.issuer.issuer,
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "token_endpoint": f"{base}/api/v1/auth/token",
        "revocation_endpoint": f"{base}/api/v1/auth/revoke",
        "grant_types_supported": ["password", "client_credentials", "refresh_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
