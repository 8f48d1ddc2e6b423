"""What a consumer says in the log about the events it applied: one line per request's run of events, under
that request's correlation id, so a request can be followed to its effects in every service. A bulk of 500
records is one line, not 500: the count of every event is the events_consumed metric."""

import itertools
import logging

from contracts.envelope import EventEnvelope
from servicekit.logs import correlation_id_var


def log_applied(log: logging.Logger, consumer: str, applied: list[EventEnvelope]) -> None:
    """One line per run of consecutive events of one correlation id: the first event's id, type and subject, and
    how many events the run had."""
    for correlation_id, run in itertools.groupby(applied, key=lambda envelope: envelope.correlation_id):
        events = list(run)
        first = events[0]
        token = correlation_id_var.set(correlation_id)
        try:
            fields = {
                "consumer": consumer,
                "event_id": str(first.id),
                "type": first.type,
                "subject": first.subject,
                "events": len(events),
            }
            more = f" and {len(events) - 1} more" if len(events) > 1 else ""
            log.info("applied %s%s", first.type, more, extra={"fields": fields})
        finally:
            correlation_id_var.reset(token)
