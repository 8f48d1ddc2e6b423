"""Managing bodies over HTTP: list, open, and close (merge or dissolve) with every cadre they manage."""

from fastapi import status

from contracts.api.boards import BodyClosure, BodyClosureResult, ManagingBodyCreate, ManagingBodyPublic
from registry.bodies import service
from registry.callers import UnitReader, UnitWriter
from registry.rules import RulesDep
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])


@router.get("/bodies", response_model=list[ManagingBodyPublic])
async def list_bodies(
    caller: UnitReader, session: SessionDep, under: str | None = None, all_versions: bool = False
) -> list[ManagingBodyPublic]:
    """Today's managing bodies (under a path), or every version."""
    return await service.list_bodies(session, under, all_versions)


@router.post("/bodies", status_code=status.HTTP_201_CREATED, response_model=ManagingBodyPublic)
async def create_body(body: ManagingBodyCreate, caller: UnitWriter, session: SessionDep, rules: RulesDep) -> ManagingBodyPublic:
    """Open a board cadres may be managed by: a unit's (territorial) or one beside the unit tree (VN.BQP)."""
    return await service.create_body(session, caller, body, rules)


@router.post("/bodies/closures", status_code=status.HTTP_201_CREATED, response_model=BodyClosureResult)
async def close_bodies(
    body: BodyClosure, caller: UnitWriter, session: SessionDep, runtime: RuntimeDep, rules: RulesDep
) -> BodyClosureResult:
    """Merge bodies into another, or dissolve one: every cadre they manage moves, with history and events."""
    return await service.close_bodies(session, runtime.outbox, caller, body, rules)
