"""Small-cell suppression, defined once for every figure an aggregate-only caller can reach (reporting's
summary, board report, issued reports and roll-up, scheduling's coverage, the registry's cadre counts).
Pure rules, no I/O; each service only describes its figures as cells and relations.

Who it applies to: a caller for whom some tier of the unit asked about is visible only through an AGGREGATE
grant (`aggregate_only`). What it hides: a count resting on 1 .. min_cell_size-1 cadres (primary). Every
total is a linear relation `total = sum(parts)`; a relation with exactly one hidden member would give it
back by subtraction, so the smallest other non-zero shown member is hidden too (complementary), until no
relation has exactly one hidden member; and since several relations solved together can still give a cell
back (a + b, a + c and b + c printed), they are solved exactly and more is hidden until none does. Totals a
reader can get elsewhere (another output, another grouping
of the same output, the sum of a list) are relations too: `add_marginals` writes them for a table. Zeros are
shown: they identify nobody.

Required integer fields of an API are hidden as 0 and named in the model's `suppressed` list (the API stays
compatible; a hidden 0 is never taken for a fact); optional fields are hidden as None.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

from contracts.enums import Action, ManagementTier
from contracts.scope import Principal, unit_covers

DEFAULT_MIN_CELL_SIZE = 10
ALL = "*"  # a dimension summed over, in the key of a marginal total

K = TypeVar("K", bound=Hashable)


def aggregate_only(principal: Principal, unit: str) -> bool:
    """True when some tier is visible at `unit` only through an AGGREGATE grant (on the unit, above it, or
    below it): every figure shown about the unit is then suppressed."""
    read: set[ManagementTier] = set()
    aggregated: set[ManagementTier] = set()
    for grant in principal.grants:
        if Action.READ in grant.actions and unit_covers(grant.unit_path, unit):
            read |= grant.tiers
        if Action.AGGREGATE in grant.actions and (unit_covers(grant.unit_path, unit) or unit_covers(unit, grant.unit_path)):
            aggregated |= grant.tiers
    return bool(aggregated - read)


@dataclass(frozen=True)
class RawCell:
    value: int
    cadres: int  # distinct cadres behind the value: what decides primary suppression


Relations = list[tuple[K, list[K]]]  # (total, its parts), every member a counted cell


def _closure(
    cells: Mapping[K, RawCell], relations: Relations[K], member_of: Mapping[K, list[int]], hidden: set[K], pending: set[int]
) -> None:
    """Complementary suppression, in place: until no relation has exactly one hidden member (only the
    relations `pending`, and those of every cell hidden on the way, are looked at again)."""
    queue = sorted(pending)
    heapq.heapify(queue)
    queued = set(queue)
    while queue:
        index = heapq.heappop(queue)
        queued.discard(index)
        total_key, members = relations[index]
        if sum(1 for m in (total_key, *members) if m in hidden) != 1:
            continue
        candidates = [p for p in members if p not in hidden and cells[p].value != 0]
        if candidates:
            added = min(candidates, key=lambda p: abs(cells[p].value))
        elif total_key not in hidden:
            added = total_key  # every other part is zero: the total would be the hidden part
        else:
            continue
        hidden.add(added)
        for other in member_of[added]:
            if other not in queued:
                queued.add(other)
                heapq.heappush(queue, other)


PRIME = (1 << 61) - 1  # exact enough for 0/±1 systems: a rank over it differs from the rational rank never in practice


def _equations(relations: Relations[K], hidden: set[K]) -> list[dict[K, int]]:
    """Each relation as an equation over its hidden members (the shown ones are known)."""
    rows = []
    for total_key, members in relations:
        row: dict[K, int] = defaultdict(int)
        for member, sign in ((total_key, 1), *((p, -1) for p in members)):
            if member in hidden:
                row[member] += sign
        if row:
            rows.append(dict(row))
    return rows


def recoverable(relations: Relations[K], hidden: set[K]) -> set[K]:
    """The hidden cells the relations give back when solved together (Gaussian elimination over the hidden
    cells, the shown ones being known): those whose row in the reduced echelon form stands alone."""
    basis: dict[K, dict[K, int]] = {}  # pivot -> its row, pivot coefficient 1, no other pivot in any row
    rows_with: dict[K, set[K]] = defaultdict(set)  # cell -> the pivots whose rows hold it
    for equation in sorted(_equations(relations, hidden), key=len):
        row = {v: c % PRIME for v, c in equation.items() if c % PRIME}
        for pivot in [v for v in row if v in basis]:
            factor = row.pop(pivot)
            for v, c in basis[pivot].items():
                if v != pivot:
                    row[v] = (row.get(v, 0) - factor * c) % PRIME
                    if not row[v]:
                        del row[v]
        if not row:
            continue
        pivot = min(row, key=lambda v: len(rows_with[v]))  # the cell in fewest rows: the least fill-in
        inverse = pow(row[pivot], PRIME - 2, PRIME)
        row = {v: c * inverse % PRIME for v, c in row.items()}
        for other in list(rows_with[pivot]):
            other_row = basis[other]
            factor = other_row.pop(pivot)
            for v, c in row.items():
                if v == pivot:
                    continue
                updated = (other_row.get(v, 0) - factor * c) % PRIME
                if updated:
                    other_row[v] = updated
                    rows_with[v].add(other)
                else:
                    other_row.pop(v, None)
                    rows_with[v].discard(other)
        rows_with[pivot] = set()
        basis[pivot] = row
        for v in row:
            if v != pivot:
                rows_with[v].add(pivot)
    return {pivot for pivot, row in basis.items() if len(row) == 1}


def hidden_keys(cells: Mapping[K, RawCell], groups: Sequence[tuple[K, Sequence[K]]], min_cadres: int) -> set[K]:
    """The cells to hide: primary (1..min_cadres-1 cadres), then complementary within every (total, parts),
    then, while the relations solved together still give a hidden cell back, the smallest shown cell of each
    relation it is in (and complementary again). A total printed nowhere makes no relation: the parts alone
    give nothing away."""
    relations: Relations[K] = [(total, [p for p in parts if p in cells]) for total, parts in groups if total in cells]
    member_of: dict[K, list[int]] = defaultdict(list)
    for index, (total, members) in enumerate(relations):
        for member in dict.fromkeys((total, *members)):
            member_of[member].append(index)
    hidden = {key for key, cell in cells.items() if 0 < cell.cadres < min_cadres}
    _closure(cells, relations, member_of, hidden, set(range(len(relations))))
    while found := recoverable(relations, hidden):
        added: set[K] = set()
        for cell in found:  # in every relation of the cell, its smallest shown member (non-zero first)
            for i in member_of[cell]:
                shown = [m for m in (relations[i][0], *relations[i][1]) if m not in hidden]
                if shown:
                    added.add(min(shown, key=lambda m: (cells[m].value == 0, abs(cells[m].value), str(m))))
        if not added:
            break  # nothing shown around them: their relations, all hidden, say only that they sum to 0
        hidden |= added
        _closure(cells, relations, member_of, hidden, {i for cell in added for i in member_of[cell]})
    return hidden


Hide = Callable[[], None]


@dataclass
class FigureSet:
    """Cells keyed by name with what hiding each does to the models, and the relations between them."""

    cells: dict[str, RawCell] = field(default_factory=dict)
    groups: list[tuple[str, list[str]]] = field(default_factory=list)
    on_hidden: dict[str, list[Hide]] = field(default_factory=lambda: defaultdict(list))

    def count(self, key: str, value: int, *hides: Hide, cadres: int | None = None) -> str:
        self.cells[key] = RawCell(value, value if cadres is None else cadres)
        self.on_hidden[key].extend(hides)
        return key

    def also(self, key: str, *hides: Hide) -> None:
        """More places that print the cell `key` (already counted)."""
        self.on_hidden[key].extend(hides)

    def relation(self, total: str, parts: Iterable[str]) -> None:
        self.groups.append((total, list(parts)))

    def apply(self, min_cadres: int) -> set[str]:
        hidden = hidden_keys(self.cells, self.groups, min_cadres)
        for key in sorted(hidden):
            for hide in self.on_hidden.get(key, []):
                hide()
        return hidden


def zeroed(model: BaseModel, name: str) -> Hide:
    """Hide a required number: 0, named in the model's `suppressed` list."""

    def hide() -> None:
        setattr(model, name, 0)
        hidden: list[str] = getattr(model, "suppressed")  # noqa: B009 - every model given here has the list
        if name not in hidden:
            hidden.append(name)

    return hide


def nulled(model: BaseModel, *names: str) -> Hide:
    """Hide optional fields (a count and the rate drawn from it): None."""

    def hide() -> None:
        for name in names:
            setattr(model, name, None)

    return hide


Key = tuple[str, ...]


def widenings(key: Key, roll_ups: Sequence[Callable[[str], Iterable[str]]]) -> list[Key]:
    """Every total a cell with this key counts towards: each dimension kept, rolled up to one of the values
    it rolls up to (a unit's parents), or summed over (ALL); the cell itself excluded."""
    choices = [dict.fromkeys([value, *roll_up(value), ALL]) for value, roll_up in zip(key, roll_ups, strict=True)]
    return [combo for combo in itertools.product(*choices) if combo != key]


def add_marginals(
    figures: FigureSet, leaves: Mapping[Key, str], roll_ups: Sequence[Callable[[str], Iterable[str]]], name: Callable[[Key], str]
) -> dict[Key, str]:
    """The totals of a table (counted cells keyed by their dimensions' values) as cells and relations, whether
    this output prints them or a reader gets them from another grouping, another output or the sum of a list:
    hidden cells must not come back from any of them. Each total is written as the sum of its cells and, one
    dimension at a time, as the sum of the next finer totals (a province's subtree = its own cadres + its
    districts' subtrees), so that suppression follows the table level by level. `name` must not give a leaf's
    name to a total. Returns the totals' cell keys by their combination."""
    coarser: list[dict[str, str]] = [{} for _ in roll_ups]  # per dimension: a value or label -> the next coarser label
    members: dict[Key, list[str]] = defaultdict(list)
    for key, cell in leaves.items():
        for i, (value, roll_up) in enumerate(zip(key, roll_ups, strict=True)):
            chain = list(dict.fromkeys([value, *roll_up(value), ALL]))
            coarser[i].update(itertools.pairwise(chain))
        for total in widenings(key, roll_ups):
            members[total].append(cell)
    totals: dict[Key, str] = {}
    for total, cells in members.items():
        if name(total) not in figures.cells:
            figures.count(name(total), sum(figures.cells[m].value for m in cells))
        totals[total] = name(total)
        figures.relation(name(total), cells)
    finer: list[dict[str, list[str]]] = [defaultdict(list) for _ in roll_ups]
    for i, steps in enumerate(coarser):
        for fine, coarse in steps.items():
            finer[i][coarse].append(fine)
    named = {**leaves, **totals}
    for total, total_name in totals.items():
        for i, label in enumerate(total):
            parts = [named[k] for fine in finer[i].get(label, []) if (k := (*total[:i], fine, *total[i + 1 :])) in named]
            if parts:
                figures.relation(total_name, parts)
    return totals


def no_roll_up(value: str) -> tuple[str, ...]:
    return ()


def units_up_to(base: str | None) -> Callable[[str], tuple[str, ...]]:
    """The subtrees a managing unit's count rolls up into: its own and each parent's (named `path+`, the unit
    and everything below it), below `base`, the unit asked about, whose subtree is the dimension's ALL."""

    def subtrees(unit: str) -> tuple[str, ...]:
        parts = unit.split(".")
        paths = [".".join(parts[:n]) for n in range(len(parts), 0, -1)]
        return tuple(f"{p}+" for p in paths if base is None or (unit_covers(base, p) and p != base))

    return subtrees
