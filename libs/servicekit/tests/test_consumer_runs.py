"""How a batch is cut into runs for its handlers (servicekit.consumer.in_runs): no I/O."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import EventEnvelope
from servicekit.consumer import Handler, RunHandler, in_runs


async def _plain(_session: AsyncSession, _envelope: EventEnvelope, _payload: Any) -> None:
    return None


async def _set_based(_session: AsyncSession, _run: list[tuple[EventEnvelope, Any]]) -> None:
    return None


class Kind:
    """Stands in for an envelope: in_runs only hands it to the handler lookup."""

    def __init__(self, name: str) -> None:
        self.type = name


def test_consecutive_events_of_one_run_handler_go_together_and_plain_handlers_one_at_a_time() -> None:
    cadres, units = RunHandler(_set_based), RunHandler(_set_based)
    by_kind: dict[str, Handler] = {"cadre": cadres, "unit": units, "plan": _plain}
    kinds = ["cadre", "cadre", "plan", "plan", "cadre", "unit", "unit", "cadre"]
    batch: list[tuple[int, Any, Any]] = [(index, Kind(kind), None) for index, kind in enumerate(kinds)]

    runs = list(in_runs(lambda envelope: by_kind[envelope.type], batch))

    assert [(handler, [index for index, _, _ in run]) for handler, run in runs] == [
        (cadres, [0, 1]),
        (_plain, [2]),
        (_plain, [3]),
        (cadres, [4]),
        (units, [5, 6]),
        (cadres, [7]),
    ]


def test_an_empty_batch_has_no_runs() -> None:
    assert list(in_runs(lambda _envelope: _plain, [])) == []
