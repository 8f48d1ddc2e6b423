"""Moving many cadres at once to a new managing unit and, where a reorganisation re-tiers them, a new tier:
state, effective-dated periods, history lines and events in the caller's transaction (unit reorganisations
and the closing of managing bodies share it)."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.enums import ManagementTier
from contracts.events.registry import CadreTierChanged, CadreTransferred
from contracts.scope import Principal
from registry.cards.service import reissue_if_needed
from registry.domain import Operation
from registry.history import Changes, append_events, change_rows, chunks, move_cadres, move_periods, record_changes
from registry.mappers import cadre_snapshot
from registry.tables import Cadre, CadrePeriod
from servicekit import clock
from servicekit.outbox import Outbox, OutgoingEvent
from servicekit.sql import table_of


@dataclass(frozen=True)
class Move:
    """Where one cadre is managed, and with which tier, from the effective date on."""

    cadre: Cadre
    unit: str
    tier: ManagementTier

    @property
    def changes(self) -> Changes:
        found: Changes = {}
        if self.unit != self.cadre.managing_unit:
            found["managing_unit"] = (self.cadre.managing_unit, self.unit)
        if self.tier.value != self.cadre.tier:
            found["tier"] = (self.cadre.tier, self.tier.value)
        return found


def _by_tier(tiers: Mapping[uuid.UUID, str]) -> dict[str, list[uuid.UUID]]:
    grouped: dict[str, list[uuid.UUID]] = {}
    for cadre_id, tier in tiers.items():
        grouped.setdefault(tier, []).append(cadre_id)
    return grouped


async def _retier(session: AsyncSession, moves: Sequence[Move], effective: date) -> None:
    """New tiers on the cadres and on their periods from `effective` (move_periods has split them there)."""
    tiers = {move.cadre.id: move.tier.value for move in moves}
    cadres = table_of(Cadre)
    for tier, ids in _by_tier(tiers).items():
        for part in chunks(ids):
            await session.execute(
                update(cadres).where(cadres.c.id.in_(list(part))).values(tier=tier).execution_options(synchronize_session=False)
            )
    await retier_periods(session, tiers, effective)


async def retier_periods(session: AsyncSession, tiers: Mapping[uuid.UUID, str], effective: date) -> None:
    """The new tier (cadre id -> tier) on every period from `effective` on; these moves' and the national move's."""
    periods = table_of(CadrePeriod)
    for tier, ids in _by_tier(tiers).items():
        for part in chunks(ids):
            await session.execute(
                update(periods).where(periods.c.cadre_id.in_(list(part)), periods.c.valid_from >= effective).values(tier=tier)
            )


def _events(moves: Sequence[Move], effective: date, reason: str, reorganisation_id: uuid.UUID | None) -> list[OutgoingEvent]:
    """A tier change and a transfer as two events, each carrying the cadre as it stands after both."""
    events: list[OutgoingEvent] = []
    for move in moves:
        before_tier, before_unit = ManagementTier(move.cadre.tier), move.cadre.managing_unit
        after = cadre_snapshot(move.cadre).model_copy(update={"managing_unit": move.unit, "tier": move.tier})
        if move.tier != before_tier:
            event = CadreTierChanged(cadre=after, previous_tier=before_tier, effective_date=effective)
            events.append(OutgoingEvent(event, str(move.cadre.id), move.unit, move.tier))
        if move.unit != before_unit:
            transferred = CadreTransferred(
                cadre=after,
                previous_managing_unit=before_unit,
                effective_date=effective,
                reason=reason,
                reorganisation_id=reorganisation_id,
            )
            events.append(OutgoingEvent(transferred, str(move.cadre.id), move.unit, move.tier))
    return events


async def apply_moves(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    moves: Sequence[Move],
    effective: date,
    reason: str,
    reorganisation_id: uuid.UUID | None = None,
) -> int:
    """Apply every move that changes something; the number of cadres changed. `moves` hold the cadres as they
    were (their rows are rewritten in bulk, not through the session)."""
    moves = [m for m in moves if m.changes]
    if not moves:
        return 0
    now = clock.now()
    await move_cadres(session, {m.cadre.id: m.unit for m in moves}, now)
    await move_periods(session, {m.cadre.id: m.unit for m in moves}, effective)
    retiered = [m for m in moves if "tier" in m.changes]
    if retiered:
        await _retier(session, retiered, effective)
    rows = []
    for move in moves:
        rows += change_rows(
            move.cadre.id, principal.subject, Operation.REORGANISE, move.changes, effective=effective, reason=reason, at=now
        )
    await record_changes(session, rows)
    await append_events(session, outbox, _events(moves, effective, reason, reorganisation_id))
    await reissue_cards(session, outbox, principal, [m.cadre for m in retiered if m.cadre.card_number is not None])
    return len(moves)


async def reissue_cards(session: AsyncSession, outbox: Outbox, principal: Principal, holders: Sequence[Cadre]) -> None:
    """The tier is printed on the card: a re-tiered holder gets a new one (few hold a card; one by one is fine).
    Every re-tiering calls it: these moves, and the national move (units/national_moves)."""
    for cadre in holders:
        await session.refresh(cadre)  # its row was rewritten in bulk: read its new tier and unit first
        await reissue_if_needed(session, outbox, principal, cadre, "tier changed by a reorganisation")
