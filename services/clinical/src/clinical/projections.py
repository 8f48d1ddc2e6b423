"""Event handlers that keep clinical's read model of the registry."""

from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from clinical.settings import ClinicalSettings
from clinical.tables import KIT, ClinicalRecord, PatientCadre
from contracts.enums import CadreStatus
from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreDied, CadreEvent
from contracts.topics import CADRES
from servicekit.consumer import EventConsumer, Handler, RunHandler
from servicekit.runtime import Runtime
from servicekit.sql import chunked, table_of, upsert_many


def _date_of_death(event: CadreEvent) -> date | None:
    if isinstance(event, CadreDied):
        return event.effective_date
    return event.cadre.status_since if event.cadre.status is CadreStatus.DECEASED else None


async def project_cadres(session: AsyncSession, run: list[tuple[EventEnvelope, CadreEvent]]) -> None:
    """Upsert each cadre as its last event of the run leaves it; when the registry moved them (transfer, tier
    change, reorganisation), their records follow: scope follows the managing body, so the record rows' managing
    unit and tier are kept in step. One read of the cadres' scope before, one upsert for the run."""
    rows = [
        {
            "cadre_id": event.cadre.id,
            "national_id": event.cadre.national_id,
            "card_number": event.cadre.card_number,
            "bhyt_number": event.cadre.bhyt_number,
            "bhyt_valid_to": event.cadre.bhyt_valid_to,
            "managing_unit": event.cadre.managing_unit,
            "tier": event.cadre.tier.value,
            "status": event.cadre.status.value,
            "date_of_death": _date_of_death(event),
            "updated_at": envelope.time,
        }
        for envelope, event in run
    ]
    after = {event.cadre.id: (event.cadre.managing_unit, event.cadre.tier.value) for _, event in run}
    ids = list(after)
    before = {
        cadre_id: (unit, tier)
        for part in chunked(ids)
        for cadre_id, unit, tier in await session.execute(
            select(col(PatientCadre.cadre_id), col(PatientCadre.managing_unit), col(PatientCadre.tier)).where(
                col(PatientCadre.cadre_id).in_(part)
            )
        )
    }
    await upsert_many(session, table_of(PatientCadre), rows, keys=("cadre_id",))
    records = table_of(ClinicalRecord)
    for cadre_id, (unit, tier) in after.items():
        if cadre_id in before and before[cadre_id] != (unit, tier):
            await session.execute(update(records).where(records.c.cadre_id == cadre_id).values(managing_unit=unit, tier=tier))


project_cadre = RunHandler(project_cadres)


def consumers(runtime: Runtime[ClinicalSettings]) -> list[EventConsumer]:
    handlers: dict[type, Handler] = {event: project_cadre for event in CADRES.events}
    return [
        EventConsumer(
            "clinical-cadres", runtime.db, KIT, runtime.broker, handlers, max_attempts=runtime.settings.consumer_max_attempts
        )
    ]
