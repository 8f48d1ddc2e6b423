"""Health-care cards (thẻ khám chữa bệnh): issue, re-issue (the old card is invalidated, never deleted), look-up."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.api.registry import CardLookup, CardPublic
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.registry import CardIssued
from contracts.scope import Principal
from registry.domain import Operation, new_card_number
from registry.history import change_rows, record_changes, snapshot
from registry.service import cadre_for_write, get_cadre
from registry.tables import Cadre, Card
from servicekit.auth import scope_filter
from servicekit.errors import NotFound, Refused, field_error
from servicekit.outbox import Outbox


async def _unused_number(session: AsyncSession, cadre: Cadre) -> str:
    today = datetime.now(UTC).date()
    for _ in range(10):
        number = new_card_number(cadre.managing_unit, today)
        if await session.get(Card, number) is None:
            return number
    raise RuntimeError("no free card number after 10 draws")  # 10^8 numbers a province and year


async def _issue(session: AsyncSession, outbox: Outbox, principal: Principal, cadre: Cadre, reason: str | None) -> Card:
    today = datetime.now(UTC).date()
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
    cadre.updated_at = datetime.now(UTC)
    await record_changes(
        session,
        change_rows(cadre.id, principal.subject, Operation.ISSUE_CARD, {"card_number": (previous, number)}, reason=reason),
    )
    await session.flush()
    await outbox.append(
        session,
        CardIssued(cadre=snapshot(cadre), card_number=number, replaces_card_number=previous),
        subject=str(cadre.id),
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
    )
    return card


def card_public(card: Card) -> CardPublic:
    return CardPublic.model_validate(card, from_attributes=True)


async def issue_card(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, reason: str | None
) -> CardPublic:
    cadre = await cadre_for_write(session, principal, cadre_id)
    if cadre.status in (CadreStatus.DECEASED, CadreStatus.REMOVED):
        raise Refused("no card for this cadre", errors=[field_error("status", f"the cadre is {cadre.status}")])
    return card_public(await _issue(session, outbox, principal, cadre, reason))


async def reissue_if_needed(session: AsyncSession, outbox: Outbox, principal: Principal, cadre: Cadre, reason: str) -> bool:
    """The details printed on the card changed: a holder of a valid card gets a new one."""
    if cadre.card_number is None:
        return False
    await _issue(session, outbox, principal, cadre, reason)
    return True


async def cards_of(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> list[CardPublic]:
    await get_cadre(session, principal, cadre_id)
    rows = await session.scalars(
        select(Card).where(col(Card.cadre_id) == cadre_id).order_by(col(Card.issued_on), col(Card.number))
    )
    return [card_public(c) for c in rows]


async def lookup_card(session: AsyncSession, principal: Principal, number: str) -> CardLookup:
    """A facility checks a presented card. Any grant (read, or a hospital's write) covering the holder allows it."""
    reach = or_(
        scope_filter(principal, Action.READ, col(Cadre.managing_unit), col(Cadre.tier)),
        scope_filter(principal, Action.WRITE, col(Cadre.managing_unit), col(Cadre.tier)),
    )
    row = (
        await session.execute(
            select(Card, Cadre).join(Cadre, col(Cadre.id) == col(Card.cadre_id)).where(col(Card.number) == number, reach)
        )
    ).first()
    if row is None:
        raise NotFound("no such card")
    card, cadre = row
    return CardLookup(
        number=card.number,
        valid=card.valid and cadre.status not in (CadreStatus.DECEASED, CadreStatus.REMOVED),
        cadre_id=cadre.id,
        full_name=cadre.full_name,
        date_of_birth=cadre.date_of_birth,
        sex=cadre.sex,
        tier=cadre.tier,
        status=cadre.status,
        managing_unit=cadre.managing_unit,
        current_card_number=cadre.card_number,
    )
