"""The cards feature's statements. A card is reached through its holder: the holder's scope is the card's."""

import uuid

from sqlalchemy import Select, or_
from sqlalchemy import select as select_rows  # tuples of columns; sqlmodel's select is for one entity
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.scope import Principal
from registry.tables import Cadre, Card
from servicekit.scope import readable, writable


def cards_of_cadre(cadre_id: uuid.UUID) -> SelectOfScalar[Card]:
    """Only for a holder already read through the scope."""
    return select(Card).where(col(Card.cadre_id) == cadre_id).order_by(col(Card.issued_on), col(Card.number))


def card_with_holder(principal: Principal, number: str) -> Select[Card, Cadre]:
    """A facility checks a presented card: any grant (read, or a hospital's write) covering the holder allows it."""
    reach = or_(
        readable(principal, col(Cadre.managing_unit), col(Cadre.tier)),
        writable(principal, col(Cadre.managing_unit), col(Cadre.tier)),
    )
    return select_rows(Card, Cadre).join(Cadre, col(Cadre.id) == col(Card.cadre_id)).where(col(Card.number) == number, reach)
