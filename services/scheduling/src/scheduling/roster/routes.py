"""The roster's routes."""

from contracts.api.scheduling import RosterSummary
from scheduling.access import Reader
from scheduling.roster import service
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["scheduling"])


@router.get("/roster/summary", response_model=RosterSummary)
async def roster_summary(caller: Reader, session: SessionDep) -> RosterSummary:
    """How many cadres scheduling knows of in the caller's scope (its read model of the registry)."""
    return await service.summary(session, caller)
