"""Card use cases: issue, re-issue (the old card is invalidated, never deleted), list a cadre's cards, look-up."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.registry import CardLookup, CardPublic
from contracts.enums import CadreStatus, ManagementTier
from contracts.events.registry import CardIssued
from contracts.scope import Principal
from registry.access import readable_cadre, writable_cadre
from registry.cards import queries
from registry.domain import Operation, new_card_number
from registry.history import change_rows, record_changes
from registry.mappers import cadre_snapshot
from registry.tables import Cadre, Card
from servicekit import clock
from servicekit.errors import NotFound, Refused, field_error
from servicekit.outbox import Outbox

ENDED = (CadreStatus.DECEASED, CadreStatus.REMOVED)


def card_public(card: Card) -> CardPublic:
    return CardPublic.model_validate(card, from_attributes=True)


async def _unused_number(session: AsyncSession, cadre: Cadre) -> str:
    today = clock.today()
    for _ in range(10):
        number = new_card_number(cadre.managing_unit, today)
        if await session.get(Card, number) is None:
            return number
    raise RuntimeError("no free card number after 10 draws")  # 10^8 numbers a province and year


async def _issue(session: AsyncSession, outbox: Outbox, principal: Principal, cadre: Cadre, reason: str | None) -> Card:
    today = clock.today()
    previous = cadre.card_number
    number = await _unused_number(session, cadre)
    card = Card(number=number, cadre_id=cadre.id, issued_on=today, issued_by=principal.subject)
    session.add(card)
    if previous is not None:
        old = await session.get(Card, previous)
        if old is not None:
            old.valid, old.invalidated_on, old.replaced_by = False, today, number
            old.invalidation_reason = reason or "re-issued"
    cadre.card_number = number
    cadre.updated_at = clock.now()
    await record_changes(
        session,
        change_rows(cadre.id, principal.subject, Operation.ISSUE_CARD, {"card_number": (previous, number)}, reason=reason),
    )
    await session.flush()
    await outbox.append(
        session,
        CardIssued(cadre=cadre_snapshot(cadre), card_number=number, replaces_card_number=previous),
        subject=str(cadre.id),
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
    )
    return card


async def issue_card(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, reason: str | None
) -> CardPublic:
    cadre = await writable_cadre(session, principal, cadre_id)
    if cadre.status in ENDED:
        raise Refused("no card for this cadre", errors=[field_error("status", f"the cadre is {cadre.status}")])
    return card_public(await _issue(session, outbox, principal, cadre, reason))


async def reissue_if_needed(session: AsyncSession, outbox: Outbox, principal: Principal, cadre: Cadre, reason: str) -> bool:
    """The details printed on the card changed: a holder of a valid card gets a new one."""
    if cadre.card_number is None:
        return False
    await _issue(session, outbox, principal, cadre, reason)
    return True


async def cards_of(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> list[CardPublic]:
    await readable_cadre(session, principal, cadre_id)  # 404 outside scope
    return [card_public(c) for c in await session.scalars(queries.cards_of_cadre(cadre_id))]


async def lookup_card(session: AsyncSession, principal: Principal, number: str) -> CardLookup:
    row = (await session.execute(queries.card_with_holder(principal, number))).first()
    if row is None:
        raise NotFound("no such card")
    card, cadre = row
    return CardLookup(
        number=card.number,
        valid=card.valid and cadre.status not in ENDED,
        cadre_id=cadre.id,
        full_name=cadre.full_name,
        date_of_birth=cadre.date_of_birth,
        sex=cadre.sex,
        tier=cadre.tier,
        status=cadre.status,
        managing_unit=cadre.managing_unit,
        current_card_number=cadre.card_number,
    )
