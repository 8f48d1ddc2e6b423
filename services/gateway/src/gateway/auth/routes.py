"""`/api/v1/auth/*`: tokens (password, client credentials, refresh), revocation, logout, who am I; and the
issuer's JWKS and discovery document.

Plain APIRouters, not ServiceRouter: the token endpoints are called without a token, and an
Idempotency-Key is kept per caller.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request

from contracts.api.auth import TokenResponse
from contracts.scope import Principal
from gateway.auth import service
from gateway.context import API_PREFIX, CallerDep, GatewayDep

router = APIRouter(prefix=API_PREFIX, tags=["auth"])
well_known = APIRouter(include_in_schema=False)


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
    form = service.TokenRequest(grant_type, username, password, client_id, client_secret, refresh_token)
    return await service.issue_token(gateway, form, request.client.host if request.client else "unknown")


@router.post("/auth/revoke", status_code=200, response_model=dict[str, bool])
async def revoke(gateway: GatewayDep, token: Annotated[str, Form()]) -> dict[str, bool]:
    """RFC 7009: revoke a refresh token (its whole session) or an access token. Unknown tokens are not an error."""
    return {"revoked": await service.revoke(gateway, token)}


@router.post("/auth/logout", status_code=200, response_model=dict[str, bool])
async def logout(caller: CallerDep, gateway: GatewayDep, refresh_token: Annotated[str | None, Form()] = None) -> dict[str, bool]:
    """End the caller's session: its access token and (if given) its refresh token stop working now."""
    await service.logout(gateway, caller, refresh_token)
    return {"revoked": True}


@router.get("/auth/me", response_model=Principal)
async def me(caller: CallerDep) -> Principal:
    """The caller as the services see it: kind, permissions and the grants in force now."""
    return caller.principal


@well_known.get("/.well-known/jwks.json")
async def jwks(gateway: GatewayDep) -> dict[str, Any]:
    return gateway.issuer.jwks


@well_known.get("/.well-known/openid-configuration")
async def openid_configuration(request: Request, gateway: GatewayDep) -> dict[str, Any]:
    return service.openid_configuration(gateway, str(request.base_url).rstrip("/"))
