"""Cards over HTTP: issue, list a cadre's cards, look a presented card up."""

import uuid

from fastapi import Response, status

from contracts.api.registry import CardIssue, CardLookup, CardPublic
from registry.callers import CadreReader, CadreWriter, CardChecker
from registry.cards import service
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])


@router.post("/cadres/{cadre_id}/cards", status_code=status.HTTP_201_CREATED, response_model=CardPublic)
async def issue_card(
    cadre_id: uuid.UUID, body: CardIssue, caller: CadreWriter, session: SessionDep, runtime: RuntimeDep, response: Response
) -> CardPublic:
    """Issue a card; a card the cadre already holds is invalidated (kept, pointing at its replacement)."""
    card = await service.issue_card(session, runtime.outbox, caller, cadre_id, body.reason)
    audit_subjects(response, [cadre_id])
    return card


@router.get("/cadres/{cadre_id}/cards", response_model=list[CardPublic])
async def cards_of(cadre_id: uuid.UUID, caller: CadreReader, session: SessionDep, response: Response) -> list[CardPublic]:
    found = await service.cards_of(session, caller, cadre_id)
    audit_subjects(response, [cadre_id])
    return found


@router.get("/cards/{number}", response_model=CardLookup)
async def lookup_card(number: str, caller: CardChecker, session: SessionDep, response: Response) -> CardLookup:
    card = await service.lookup_card(session, caller, number)
    audit_subjects(response, [card.cadre_id])
    return card
