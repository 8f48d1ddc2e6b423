"""Reorganisations of administrative units followed onto today's units, with no I/O: the rule reporting and
scheduling both attribute past rows by ("mapped onto today's units"). A reorganisation maps each old path to its
successors on a date (many-to-many); a unit followed through every later one is the unit that continues it now.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Succession:
    old_path: str
    new_path: str
    effective_on: date


Successors = Mapping[str, Sequence[Succession]]  # old path -> its successions


def _covers(unit: str, path: str) -> bool:
    return path == unit or path.startswith(unit + ".")


def today_of(path: str, successors: Successors, unit_on: Callable[[date], str | None] | None = None) -> str | None:
    """`path` followed through every reorganisation since onto the unit that continues it today.

    Where a unit was split, the part is the one the cadre went to (`unit_on` the split's date, the unit it
    was managed by then); without a cadre to ask (`unit_on` None) the answer is None: it depends on the
    cadre. A cadre that had left before the split stays with the unit if it continues, else gets the first part by path.
    """
    current, since, seen = path, date.min, {path}
    while True:
        later = sorted((s for s in successors.get(current, ()) if s.effective_on >= since), key=lambda s: s.effective_on)
        step = next(
            (
                day
                for day in dict.fromkeys(s.effective_on for s in later)
                if {s.new_path for s in later if s.effective_on == day} != {current}
            ),
            None,
        )
        if step is None:
            return current
        options = sorted({s.new_path for s in later if s.effective_on == step})
        if len(options) == 1:
            chosen = options[0]
        elif unit_on is None:
            return None
        else:
            own = unit_on(step)
            fallback = current if current in options else options[0]
            chosen = next((o for o in options if own is not None and _covers(o, own)), fallback)
        if chosen in seen:
            return chosen
        current, since = chosen, step
        seen.add(chosen)
