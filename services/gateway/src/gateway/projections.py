"""What the gateway learns from the registry's events: each cadre's scope keys (managing unit, tier), for
the audit trail's scoping and break-the-glass; and unit reorganisations, which its grants follow."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events.registry import CadreEvent, UnitsReorganized
from contracts.topics import CADRES
from gateway.grants.store import GrantStore
from gateway.settings import GatewaySettings
from gateway.tables import KIT, CadreScope
from servicekit.consumer import EventConsumer, Handler
from servicekit.runtime import Runtime
from servicekit.sql import table_of, upsert


async def project_cadre(session: AsyncSession, envelope: EventEnvelope, event: CadreEvent) -> None:
    cadre = event.cadre
    await upsert(
        session,
        table_of(CadreScope),
        {"cadre_id": cadre.id, "managing_unit": cadre.managing_unit, "tier": cadre.tier.value, "updated_at": envelope.time},
        keys=("cadre_id",),
    )


def follow_reorganisation(grants: GrantStore) -> Handler:
    async def handle(session: AsyncSession, _envelope: EventEnvelope, event: UnitsReorganized) -> None:
        await grants.remap(session, event)

    return handle


def handlers(grants: GrantStore) -> dict[type[DomainEvent], Handler]:
    by_event: dict[type[DomainEvent], Handler] = {event: project_cadre for event in CADRES.events}
    by_event[UnitsReorganized] = follow_reorganisation(grants)
    return by_event


def consumers(runtime: Runtime[GatewaySettings], grants: GrantStore) -> list[EventConsumer]:
    attempts = runtime.settings.consumer_max_attempts
    return [EventConsumer("gateway-registry", runtime.db, KIT, runtime.broker, handlers(grants), max_attempts=attempts)]
