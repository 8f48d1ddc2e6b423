"""Status changes boards learn of late, without I/O: a retirement, death or removal dated before later changes
of the cadre's unit or tier (a reorganisation, a transfer, a re-tiering) is recorded in the past; only a later
change of status, the same kind of event, contradicts it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from contracts.enums import CadreStatus
from registry.domain import Operation, Problem

LATE_OPERATIONS = frozenset({Operation.RETIRE, Operation.DIE, Operation.REMOVE})
STATUS_EVENTS = {  # the event that leads into a status, as a board names it
    CadreStatus.ACTIVE: "return to active",
    CadreStatus.RETIRED: "retirement",
    CadreStatus.DECEASED: "death",
    CadreStatus.REMOVED: "removal",
}


@dataclass(frozen=True)
class Span:
    """One of a cadre's periods: from when, which status (its unit and tier do not matter here)."""

    valid_from: date
    status: CadreStatus


def late_change_problems(operation: Operation, spans: Sequence[Span], effective: date) -> list[Problem]:
    """Whether a status change dated `effective`, before the cadre's last recorded change, fits its history: it
    must fall after the first period, and no status change may follow it (a death after which the cadre was
    retired, a retirement before a recorded retirement)."""
    if operation not in LATE_OPERATIONS:
        return []
    ordered = sorted(spans, key=lambda s: s.valid_from)
    if not ordered or effective < ordered[0].valid_from:
        first = ordered[0].valid_from.isoformat() if ordered else "?"
        return [("effective_date", f"before the cadre's first recorded period, from {first}")]
    holding = [s for s in ordered if s.valid_from <= effective][-1]
    for span in ordered:
        if span.valid_from > effective and span.status != holding.status:
            event = STATUS_EVENTS[span.status]
            return [
                (
                    "effective_date",
                    f"conflicts with the {event} recorded from {span.valid_from.isoformat()}, after {effective.isoformat()}",
                )
            ]
    return []
