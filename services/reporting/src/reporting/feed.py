"""Feeding events to reporting's projections without a broker: servicekit's one event feed
(servicekit.testing.events) on reporting's consumers. Used by tests, and to load archived events
(e.g. an outbox export) through the same idempotent consumer kit."""

from reporting.projections import build_consumers
from servicekit.broker import Broker
from servicekit.db import Database
from servicekit.testing import events
from servicekit.testing.events import record_of

__all__ = ["EventFeed", "record_of"]


class EventFeed(events.EventFeed):
    def __init__(self, db: Database) -> None:
        # The broker is only reached to dead-letter a poison message; the feed fails on one instead.
        super().__init__(build_consumers(db, Broker("127.0.0.1:9"), max_attempts=1))
