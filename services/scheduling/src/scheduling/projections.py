"""Event handlers that keep scheduling's read model of the registry."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreEvent
from contracts.topics import CADRES
from scheduling.tables import KIT, RosterCadre
from servicekit.consumer import EventConsumer, Handler
from servicekit.runtime import Runtime
from servicekit.sql import table_of, upsert


async def project_cadre(session: AsyncSession, envelope: EventEnvelope, event: CadreEvent) -> None:
    cadre = event.cadre
    values = {
        "cadre_id": cadre.id,
        "full_name": cadre.full_name,
        "managing_unit": cadre.managing_unit,
        "tier": cadre.tier.value,
        "status": cadre.status.value,
        "status_since": cadre.status_since,
        "residence_address": cadre.residence_address,
        "updated_at": envelope.time,
    }
    await upsert(session, table_of(RosterCadre), values, keys=("cadre_id",))


def consumers(runtime: Runtime) -> list[EventConsumer]:
    handlers: dict[type, Handler] = {event: project_cadre for event in CADRES.events}
    return [
        EventConsumer(
            "scheduling-cadres", runtime.db, KIT, runtime.broker, handlers, max_attempts=runtime.settings.consumer_max_attempts
        )
    ]
