"""Domain events, one module per publishing service. `EVENT_TYPES` maps a CloudEvents type to its payload model."""

from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events import clinical, registry, reporting, scheduling

ALL_EVENTS: tuple[type[DomainEvent], ...] = (
    *registry.EVENTS,
    *scheduling.EVENTS,
    *clinical.EVENTS,
    *reporting.EVENTS,
)

EVENT_TYPES: dict[tuple[str, int], type[DomainEvent]] = {(event.event_type, event.schema_version): event for event in ALL_EVENTS}


class UnknownEventType(ValueError):
    pass


def parse_payload(envelope: EventEnvelope) -> DomainEvent:
    """The typed payload of an envelope; ValueError if its type or shape is unknown."""
    model = EVENT_TYPES.get((envelope.type, envelope.schema_version))
    if model is None:
        raise UnknownEventType(f"unknown event type {envelope.type!r} v{envelope.schema_version}")
    return model.model_validate(envelope.data)
