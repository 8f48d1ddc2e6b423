"""The roster projected from the registry's events a run at a time: each cadre's current row and its history
("as of" any date). A run of events is read ahead in one query (the history of its cadres) and written in one
upsert and one insert, unless an event acts on invitations: the writes so far land first, so what it reads
(the roster as of a date) is what one-by-one application would have shown it."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreEvent, CadreRegistered
from scheduling.tables import RosterCadre, RosterHistory
from servicekit import clock
from servicekit.sql import chunked, table_of, upsert_many

State = tuple[str, str, str]  # managing unit, tier, status


def effective_date(envelope: EventEnvelope, event: CadreEvent) -> date:
    if isinstance(event, CadreRegistered):
        return min(event.cadre.status_since, clock.vietnam_date(envelope.time))
    return event.stated_effective_date or clock.vietnam_date(envelope.time)


def roster_row(envelope: EventEnvelope, event: CadreEvent) -> dict[str, object]:
    cadre = event.cadre
    return {
        "cadre_id": cadre.id,
        "full_name": cadre.full_name,
        "managing_unit": cadre.managing_unit,
        "tier": cadre.tier.value,
        "status": cadre.status.value,
        "status_since": cadre.status_since,
        "sex": cadre.sex.value,
        "position": cadre.position,
        "residence_address": cadre.residence_address,
        "residence_unit": cadre.residence_unit,
        "phone": cadre.phone,
        "eligibility": [e.value for e in cadre.eligibility],
        "updated_at": envelope.time,
    }


@dataclass
class RosterRun:
    """The roster writes of one run of events, kept until `write`; `history` holds each cadre's history rows as
    (valid_from, order, state), those read and those added, so each event finds the state it follows."""

    history: dict[uuid.UUID, list[tuple[date, int, State]]]
    cadres: list[dict[str, object]] = field(default_factory=list)
    new_history: list[dict[str, object]] = field(default_factory=list)
    _added: int = 0

    @classmethod
    async def read(cls, session: AsyncSession, cadre_ids: set[uuid.UUID]) -> "RosterRun":
        history: dict[uuid.UUID, list[tuple[date, int, State]]] = {cadre_id: [] for cadre_id in cadre_ids}
        h = table_of(RosterHistory).c
        columns = (h.cadre_id, h.valid_from, h.id, h.managing_unit, h.tier, h.status)
        for part in chunked(list(cadre_ids)):
            for cadre_id, valid_from, row_id, unit, tier, status in await session.execute(
                select(*columns).where(h.cadre_id.in_(part))
            ):
                history[cadre_id].append((valid_from, row_id, (unit, tier, status)))
        return cls(history)

    def project(self, envelope: EventEnvelope, event: CadreEvent) -> date:
        """The event's roster row and, when its state differs from the one in force on its effective date, a
        history row from that date. Returns the effective date."""
        cadre = event.cadre
        self.cadres.append(roster_row(envelope, event))
        effective = effective_date(envelope, event)
        rows = self.history.setdefault(cadre.id, [])
        in_force = max((row for row in rows if row[0] <= effective), default=None)
        state = (cadre.managing_unit, cadre.tier.value, cadre.status.value)
        if in_force is None or in_force[2] != state:
            self._added += 1
            rows.append((effective, 1 << 62 | self._added, state))  # after every stored row of the same date
            self.new_history.append(_history_row(cadre.id, effective, state, envelope.time))
        return effective

    async def write(self, session: AsyncSession) -> None:
        """Everything projected since the last write, in one upsert and one insert."""
        await upsert_many(session, table_of(RosterCadre), self.cadres, keys=("cadre_id",))
        if self.new_history:
            await session.execute(insert(table_of(RosterHistory)), self.new_history)
        self.cadres, self.new_history = [], []


def _history_row(cadre_id: uuid.UUID, valid_from: date, state: State, recorded_at: datetime) -> dict[str, object]:
    unit, tier, status = state
    return {
        "cadre_id": cadre_id,
        "valid_from": valid_from,
        "managing_unit": unit,
        "tier": tier,
        "status": status,
        "recorded_at": recorded_at,
    }
