"""`/api/v1/gateway/users`, `/api/v1/gateway/his-clients`, `/api/v1/gateway/roles`: a board's administrators
manage the people and hospitals of their own scope. Someone outside it answers 404, as if absent.

The routes that carry a secret (a password in the request, a client secret in the answer) are on a plain
router, without Idempotency-Key: a replayable answer would be a stored copy of the secret, and the request's
digest a fast hash of the password. A retried creation answers 409 `identity_exists`; a lost client secret
is rotated."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status

from contracts.api.identities import (
    LOGIN_NAME_PATTERN,
    HisClientCreate,
    HisClientSecret,
    Identity,
    IdentityDisable,
    PasswordSet,
    RoleInfo,
    UserCreate,
)
from contracts.permissions import Permission
from gateway.context import API_PREFIX, Caller, GatewayDep, permitted, request_target
from gateway.identities import service
from servicekit.idempotency import ServiceRouter

router = ServiceRouter(prefix=f"{API_PREFIX}/gateway", tags=["gateway"])
secret_router = APIRouter(prefix=f"{API_PREFIX}/gateway", tags=["gateway"])
Administrator = Annotated[Caller, Depends(permitted(Permission.GATEWAY_IDENTITIES_ADMINISTER))]
Username = Annotated[str, Path(pattern=LOGIN_NAME_PATTERN)]
ClientId = Annotated[str, Path(pattern=LOGIN_NAME_PATTERN)]
SHOWN_ONCE = {"description": "the answer carries the client's secret: the only time it is shown"}


@router.get("/roles", response_model=list[RoleInfo])
async def list_roles(caller: Administrator) -> list[RoleInfo]:
    """The roles you may give a user (their grants must also lie within yours on the unit you name)."""
    return service.roles_for(caller)


@router.get("/users", response_model=list[Identity])
async def list_users(caller: Administrator, gateway: GatewayDep) -> list[Identity]:
    """The users of your scope: of the units you cover, with no more rights than yours."""
    return await service.listing(gateway, caller, "user")


@secret_router.post("/users", response_model=Identity, status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, request: Request, caller: Administrator, gateway: GatewayDep) -> Identity:
    """A user with a role on a unit: never beyond your own grants and permissions; the password policy applies."""
    return await service.create_user(gateway, caller, body, request_target(request))


@router.get("/users/{username}", response_model=Identity)
async def get_user(username: Username, caller: Administrator, gateway: GatewayDep) -> Identity:
    return await service.one(gateway, caller, f"user:{username}", "user")


@router.post("/users/{username}/disable", response_model=Identity)
async def disable_user(
    username: Username, body: IdentityDisable, request: Request, caller: Administrator, gateway: GatewayDep
) -> Identity:
    """The user can no longer sign in, and its tokens stop working."""
    return await service.set_disabled(gateway, caller, f"user:{username}", "user", body, request_target(request))


@router.post("/users/{username}/enable", response_model=Identity)
async def enable_user(username: Username, request: Request, caller: Administrator, gateway: GatewayDep) -> Identity:
    return await service.set_disabled(gateway, caller, f"user:{username}", "user", None, request_target(request))


@router.post("/users/{username}/unlock", response_model=Identity)
async def unlock_user(username: Username, request: Request, caller: Administrator, gateway: GatewayDep) -> Identity:
    """Lift the lockout that repeated failed sign-ins set."""
    return await service.unlock(gateway, caller, f"user:{username}", request_target(request))


@secret_router.post("/users/{username}/password", response_model=Identity)
async def set_password(
    username: Username, body: PasswordSet, request: Request, caller: Administrator, gateway: GatewayDep
) -> Identity:
    """A new password for a user (the policy applies); it also lifts a lockout."""
    return await service.set_password(gateway, caller, f"user:{username}", body, request_target(request))


@router.get("/his-clients", response_model=list[Identity])
async def list_his_clients(caller: Administrator, gateway: GatewayDep) -> list[Identity]:
    """The hospital systems of your scope."""
    return await service.listing(gateway, caller, "client")


@secret_router.post(
    "/his-clients", response_model=HisClientSecret, status_code=status.HTTP_201_CREATED, responses={201: SHOWN_ONCE}
)
async def create_his_client(
    body: HisClientCreate, request: Request, caller: Administrator, gateway: GatewayDep
) -> HisClientSecret:
    """A hospital system bound to its facility code; its secret is generated here and shown in this answer only."""
    return await service.create_client(gateway, caller, body, request_target(request))


@router.get("/his-clients/{client_id}", response_model=Identity)
async def get_his_client(client_id: ClientId, caller: Administrator, gateway: GatewayDep) -> Identity:
    return await service.one(gateway, caller, f"client:{client_id}", "client")


@router.post("/his-clients/{client_id}/disable", response_model=Identity)
async def disable_his_client(
    client_id: ClientId, body: IdentityDisable, request: Request, caller: Administrator, gateway: GatewayDep
) -> Identity:
    return await service.set_disabled(gateway, caller, f"client:{client_id}", "client", body, request_target(request))


@router.post("/his-clients/{client_id}/enable", response_model=Identity)
async def enable_his_client(client_id: ClientId, request: Request, caller: Administrator, gateway: GatewayDep) -> Identity:
    return await service.set_disabled(gateway, caller, f"client:{client_id}", "client", None, request_target(request))


@secret_router.post("/his-clients/{client_id}/rotate-secret", response_model=HisClientSecret, responses={200: SHOWN_ONCE})
async def rotate_his_client_secret(
    client_id: ClientId, request: Request, caller: Administrator, gateway: GatewayDep
) -> HisClientSecret:
    """A new secret, shown in this answer only; the old one stops working at once."""
    return await service.rotate_secret(gateway, caller, f"client:{client_id}", request_target(request))
