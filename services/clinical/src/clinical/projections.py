"""Event handlers that keep clinical's read model of the registry."""

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.tables import KIT, PatientCadre
from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreEvent
from contracts.topics import CADRES
from servicekit.consumer import EventConsumer, Handler
from servicekit.runtime import Runtime
from servicekit.sql import table_of, upsert


async def project_cadre(session: AsyncSession, envelope: EventEnvelope, event: CadreEvent) -> None:
    cadre = event.cadre
    values = {
        "cadre_id": cadre.id,
        "national_id": cadre.national_id,
        "card_number": cadre.card_number,
        "managing_unit": cadre.managing_unit,
        "tier": cadre.tier.value,
        "status": cadre.status.value,
        "updated_at": envelope.time,
    }
    await upsert(session, table_of(PatientCadre), values, keys=("cadre_id",))


def consumers(runtime: Runtime) -> list[EventConsumer]:
    handlers: dict[type, Handler] = {event: project_cadre for event in CADRES.events}
    return [
        EventConsumer(
            "clinical-cadres", runtime.db, KIT, runtime.broker, handlers, max_attempts=runtime.settings.consumer_max_attempts
        )
    ]
