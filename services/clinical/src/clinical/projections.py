"""Event handlers that keep clinical's read model of the registry."""

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from clinical.settings import ClinicalSettings
from clinical.tables import KIT, ClinicalRecord, PatientCadre
from contracts.enums import CadreStatus
from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreDied, CadreEvent
from contracts.topics import CADRES
from servicekit.consumer import EventConsumer, Handler
from servicekit.runtime import Runtime
from servicekit.sql import table_of, upsert


async def project_cadre(session: AsyncSession, envelope: EventEnvelope, event: CadreEvent) -> None:
    """Upsert the cadre; when the registry moves them (transfer, tier change, reorganisation), their records follow:
    scope follows the managing body, so the record rows' managing unit and tier are kept in step."""
    cadre = event.cadre
    date_of_death = None
    if isinstance(event, CadreDied):
        date_of_death = event.effective_date
    elif cadre.status is CadreStatus.DECEASED:
        date_of_death = cadre.status_since
    before = (
        await session.execute(
            select(col(PatientCadre.managing_unit), col(PatientCadre.tier)).where(col(PatientCadre.cadre_id) == cadre.id)
        )
    ).first()
    values = {
        "cadre_id": cadre.id,
        "national_id": cadre.national_id,
        "card_number": cadre.card_number,
        "bhyt_number": cadre.bhyt_number,
        "bhyt_valid_to": cadre.bhyt_valid_to,
        "managing_unit": cadre.managing_unit,
        "tier": cadre.tier.value,
        "status": cadre.status.value,
        "date_of_death": date_of_death,
        "updated_at": envelope.time,
    }
    await upsert(session, table_of(PatientCadre), values, keys=("cadre_id",))
    if before is not None and tuple(before) != (cadre.managing_unit, cadre.tier.value):
        await session.execute(
            update(table_of(ClinicalRecord))
            .where(table_of(ClinicalRecord).c.cadre_id == cadre.id)
            .values(managing_unit=cadre.managing_unit, tier=cadre.tier.value)
        )


def consumers(runtime: Runtime[ClinicalSettings]) -> list[EventConsumer]:
    handlers: dict[type, Handler] = {event: project_cadre for event in CADRES.events}
    return [
        EventConsumer(
            "clinical-cadres", runtime.db, KIT, runtime.broker, handlers, max_attempts=runtime.settings.consumer_max_attempts
        )
    ]
