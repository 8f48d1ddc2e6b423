"""Event handlers that keep the read models: topic -> contracts model -> upsert."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreEvent
from contracts.topics import CADRES
from reporting.tables import KIT, CadreFact
from servicekit.consumer import EventConsumer, Handler
from servicekit.runtime import Runtime
from servicekit.sql import table_of, upsert


async def project_cadre(session: AsyncSession, envelope: EventEnvelope, event: CadreEvent) -> None:
    cadre = event.cadre
    await upsert(
        session,
        table_of(CadreFact),
        {
            "cadre_id": cadre.id,
            "managing_unit": cadre.managing_unit,
            "tier": cadre.tier.value,
            "status": cadre.status.value,
            "status_since": cadre.status_since,
            "updated_at": envelope.time,
        },
        keys=("cadre_id",),
    )


def consumers(runtime: Runtime) -> list[EventConsumer]:
    handlers: dict[type, Handler] = {event: project_cadre for event in CADRES.events}
    return [
        EventConsumer(
            "reporting-cadres",
            runtime.db,
            KIT,
            runtime.broker,
            handlers,
            max_attempts=runtime.settings.consumer_max_attempts,
        )
    ]
