"""Patient searches, each started from the caller's scope (registry.access)."""

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import ColumnElement, Select, false, func, or_
from sqlalchemy import select as select_rows
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.fhir import SID_BHYT, SID_CADRE, SID_CCCD, SID_HEALTH_CARD
from contracts.scope import Principal
from registry.access import in_scope
from registry.tables import Cadre, Card
from servicekit.fhir_search import DateSearch, Token, date_condition

SYSTEMS = (SID_CCCD, SID_BHYT, SID_HEALTH_CARD, SID_CADRE)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


CardHolders = Mapping[str, Sequence[uuid.UUID]]  # card number -> the cadre holding it (now or before)


def card_holders(numbers: Sequence[str]) -> Select[str, uuid.UUID]:
    """Looked up first, so that each identifier is an equality on an indexed column: a search in any system is
    then one index scan per system (a BitmapOr), not a scan of the table against a subquery. Unscoped: the
    cadres found are then searched within the scope."""
    return select_rows(col(Card.number), col(Card.cadre_id)).where(col(Card.number).in_(numbers))


def _identifier_is(system: str, code: str, holders: CardHolders) -> ColumnElement[bool]:
    if system == SID_CCCD:
        return col(Cadre.national_id) == code
    if system == SID_BHYT:
        return col(Cadre.bhyt_number) == code
    if system == SID_HEALTH_CARD:  # the current card or an older one of the same cadre
        held = holders.get(code, ())
        return col(Cadre.id).in_(held) if held else false()
    cadre_id = _as_uuid(code)
    return col(Cadre.id) == cadre_id if cadre_id else false()


def identifier_matches(token: Token, holders: CardHolders) -> ColumnElement[bool]:
    """A system CadreCare does not keep matches nothing (FHIR: a search, not an error)."""
    systems = SYSTEMS if token.system is None else [s for s in SYSTEMS if s == token.system]
    return or_(*(_identifier_is(system, token.code, holders) for system in systems)) if systems else false()


def needs_card(token: Token) -> bool:
    return token.system in (None, SID_HEALTH_CARD)


def conditions(
    principal: Principal,
    identifiers: Sequence[Token],
    ids: Sequence[str],
    updated: Sequence[DateSearch],
    holders: CardHolders,
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [in_scope(principal)]
    if identifiers:
        found.append(or_(*(identifier_matches(t, holders) for t in identifiers)))
    if ids:
        wanted = [u for u in (_as_uuid(i) for i in ids) if u is not None]
        found.append(col(Cadre.id).in_(wanted) if wanted else false())
    found.extend(date_condition(col(Cadre.updated_at), search) for search in updated)
    return found


def count_of(where: Sequence[ColumnElement[bool]]) -> Select[int]:
    return select_rows(func.count()).select_from(Cadre).where(*where)


def page_of(where: Sequence[ColumnElement[bool]], offset: int, limit: int) -> SelectOfScalar[Cadre]:
    """In id order: stable pages whatever is renamed meanwhile (an export pages through all of them)."""
    return select(Cadre).where(*where).order_by(col(Cadre.id)).offset(offset).limit(limit)


def in_scope_with_national_id(principal: Principal, national_id: str) -> SelectOfScalar[Cadre]:
    return select(Cadre).where(in_scope(principal), col(Cadre.national_id) == national_id)
