"""What the gateway learns from the registry's events: each cadre's scope keys (managing unit, tier), for
the audit trail's scoping and break-the-glass; and unit reorganisations, which its grants follow."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events.registry import CadreEvent, UnitsReorganized
from contracts.topics import CADRES
from gateway.grants.store import GrantStore
from gateway.settings import GatewaySettings
from gateway.tables import KIT, CadreScope
from servicekit.consumer import EventConsumer, Handler, RunHandler
from servicekit.runtime import Runtime
from servicekit.sql import table_of, upsert_many


async def project_cadres(session: AsyncSession, run: list[tuple[EventEnvelope, CadreEvent]]) -> None:
    """Each cadre's scope as its last event of the run leaves it, in one statement."""
    rows = [
        {"cadre_id": e.cadre.id, "managing_unit": e.cadre.managing_unit, "tier": e.cadre.tier.value, "updated_at": env.time}
        for env, e in run
    ]
    await upsert_many(session, table_of(CadreScope), rows, keys=("cadre_id",))


project_cadre = RunHandler(project_cadres)


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
