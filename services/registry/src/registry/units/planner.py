"""Planning a reorganisation of administrative units, with no I/O.

The planner works on the units current before the effective date (path -> UnitState) and applies the
operations in order. Its result says which unit versions end, which begin, where each old path's cadres
go (`forward`), which cadres of a split go where (`cadre_overrides`), and one event record per operation.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol

from contracts.api.registry import DissolveLevel, MergeUnits, RenameUnit, ReorganisationOperation, RetierTarget, SplitUnit
from contracts.enums import ManagementTier, UnitLevel
from contracts.events.registry import UnitSnapshot
from registry.domain import TierRule, province_of, tier_problem

RESIDENCE = "residence"  # a re-tier target: the commune the cadre lives in


@dataclass(frozen=True)
class UnitState:
    path: str
    code: str
    name: str
    level: UnitLevel
    parent_path: str | None


class UnitShape(Protocol):
    """What a unit version's snapshot is made of (UnitState here, the national data's UnitRecord)."""

    @property
    def path(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def level(self) -> UnitLevel: ...
    @property
    def parent_path(self) -> str | None: ...


def snapshot_of(unit: UnitShape, valid_from: date, valid_to: date | None = None) -> UnitSnapshot:
    """The unit as events carry it, valid from `valid_from` up to (not including) `valid_to`."""
    return UnitSnapshot(
        path=unit.path,
        code=unit.code,
        name=unit.name,
        level=unit.level,
        parent_path=unit.parent_path,
        valid_from=valid_from,
        valid_to=valid_to,
        # the national data's units carry coordinates (for reporting's map); a planned UnitState has none
        latitude=getattr(unit, "latitude", None),
        longitude=getattr(unit, "longitude", None),
    )


class PlanError(Exception):
    def __init__(self, loc: list[str | int], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


@dataclass
class OperationRecord:
    kind: str
    subject: str
    retired: list[UnitState] = field(default_factory=list)
    created: list[UnitState] = field(default_factory=list)
    mapping: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Retier:
    """A dissolved level's re-tiering: cadres managed (before the reorganisation) at `units` whose tier is a key
    of `tiers` become what it maps to."""

    under: str  # the dissolving operation's `under`, as it stood then
    units: frozenset[str]  # original paths at or below the dissolved units
    tiers: Mapping[ManagementTier, RetierTarget]
    loc: tuple[str | int, ...]


@dataclass
class Plan:
    closed: list[UnitState]  # versions that end on the effective date
    created: list[UnitState]  # versions that start on it
    forward: dict[str, str]  # original path -> path where its cadres are managed after (only changed ones)
    cadre_overrides: dict[uuid.UUID, str]  # cadres of split units
    records: list[OperationRecord]
    retiers: list[Retier] = field(default_factory=list)
    after: dict[str, UnitState] = field(default_factory=dict)  # the units current once it applies

    @property
    def mapping(self) -> dict[str, list[str]]:
        merged: dict[str, list[str]] = {}
        for record in self.records:
            for old, news in record.mapping.items():
                merged.setdefault(old, [])
                merged[old] += [n for n in news if n not in merged[old]]
        return merged


def _parent_of(path: str) -> str | None:
    return path.rsplit(".", 1)[0] if "." in path else None


def _code_of(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + ".")


class Planner:
    def __init__(self, current: Mapping[str, UnitState], split_cadres: Mapping[str, set[uuid.UUID]]) -> None:
        self.original = dict(current)
        self.working = dict(current)
        self.forward: dict[str, str | None] = {path: path for path in current}
        self.overrides: dict[uuid.UUID, str] = {}
        self.bumped: set[str] = set()  # paths that get a new version even if their fields are unchanged
        self.split_cadres = split_cadres
        self.records: list[OperationRecord] = []
        self.retiers: list[Retier] = []

    # -- primitives --------------------------------------------------------------------------------

    def _require(self, path: str, loc: list[str | int]) -> UnitState:
        unit = self.working.get(path)
        if unit is None:
            raise PlanError(loc, f"no current unit {path!r}")
        return unit

    def _retarget(self, old: str, new: str) -> None:
        """Cadres (and split overrides) pointing at `old` or below now point at `new` (same relative path)."""
        for key, value in self.forward.items():
            if value is not None and _under(value, old):
                self.forward[key] = new + value[len(old) :]
        for cadre, value in self.overrides.items():
            if _under(value, old):
                self.overrides[cadre] = new + value[len(old) :]

    def _move_subtree(self, root: str, new_root: str, new_parent: str, record: OperationRecord, loc: list[str | int]) -> None:
        moving = sorted(path for path in self.working if _under(path, root))
        for path in moving:
            target = new_root + path[len(root) :]
            if target in self.working and not _under(target, root):
                raise PlanError(loc, f"moving {path!r} to {target!r} collides with an existing unit")
        for path in moving:
            unit = self.working.pop(path)
            target = new_root + path[len(root) :]
            parent = new_parent if path == root else new_root + (unit.parent_path or "")[len(root) :]
            moved = replace(unit, path=target, parent_path=parent)
            self.working[target] = moved
            record.retired.append(unit)
            record.created.append(moved)
            record.mapping[path] = [target]
        self._retarget(root, new_root)

    def _children(self, path: str) -> list[UnitState]:
        return sorted((u for u in self.working.values() if u.parent_path == path), key=lambda u: u.path)

    # -- operations ------------------------------------------------------------------------------

    def rename(self, op: RenameUnit, loc: list[str | int]) -> None:
        unit = self._require(op.unit, [*loc, "unit"])
        renamed = replace(unit, name=op.name)
        self.working[op.unit] = renamed
        self.records.append(OperationRecord("rename", op.unit, [unit], [renamed], {op.unit: [op.unit]}))

    def merge(self, op: MergeUnits, loc: list[str | int]) -> None:
        sources = [self._require(path, [*loc, "sources", i]) for i, path in enumerate(op.sources)]
        levels = {s.level for s in sources}
        if len(levels) != 1:
            raise PlanError([*loc, "sources"], "merged units must be of one level")
        record = OperationRecord("merge", op.target)
        if op.target in op.sources:
            survivor = self.working[op.target]
            record.retired.append(survivor)
            target = replace(survivor, name=op.target_name or survivor.name)
        else:
            if op.target in self.working:
                raise PlanError([*loc, "target"], f"{op.target!r} exists and is not one of the sources")
            if not op.target_name:
                raise PlanError([*loc, "target_name"], "a new target unit needs a name")
            parent = _parent_of(op.target)
            if parent is None or parent not in self.working:
                raise PlanError([*loc, "target"], f"the parent of {op.target!r} is not a current unit")
            target = UnitState(op.target, _code_of(op.target), op.target_name, levels.pop(), parent)
        self.working[op.target] = target
        self.bumped.add(op.target)
        for source in sources:
            if source.path == op.target:
                continue
            for child in self._children(source.path):
                self._move_subtree(child.path, f"{op.target}.{child.code}", op.target, record, [*loc, "sources"])
            del self.working[source.path]
            record.retired.append(source)
            self._retarget(source.path, op.target)
        record.created.insert(0, target)
        for source in sources:
            record.mapping[source.path] = [op.target]
        self.records.append(record)

    def split(self, op: SplitUnit, loc: list[str | int]) -> None:
        source = self._require(op.source, [*loc, "source"])
        targets = {t.path: t for t in op.into}
        for i, t in enumerate(op.into):
            if _parent_of(t.path) != source.parent_path:
                raise PlanError([*loc, "into", i, "path"], f"a part of {source.path!r} must be under {source.parent_path!r}")
            if t.path in self.working and t.path != source.path:
                raise PlanError([*loc, "into", i, "path"], f"{t.path!r} is already a current unit")
        children = self._children(source.path)
        unmapped = [c.path for c in children if c.path not in op.children]
        if unmapped:
            raise PlanError([*loc, "children"], f"every child unit must be mapped; missing {unmapped}")
        for child_path, target_path in op.children.items():
            if target_path not in targets:
                raise PlanError([*loc, "children", child_path], f"{target_path!r} is not one of `into`")
        managed = self.split_cadres.get(source.path, set())
        missing = sorted(str(c) for c in managed - set(op.cadres))
        if missing:
            raise PlanError([*loc, "cadres"], f"{len(missing)} cadres managed by {source.path!r} are not mapped: {missing[:20]}")
        for cadre, target_path in op.cadres.items():
            if cadre not in managed:
                raise PlanError([*loc, "cadres", str(cadre)], f"not a cadre managed by {source.path!r}")
            if target_path not in targets:
                raise PlanError([*loc, "cadres", str(cadre)], f"{target_path!r} is not one of `into`")
        record = OperationRecord("split", source.path, retired=[source])
        del self.working[source.path]
        for t in op.into:
            part = UnitState(t.path, _code_of(t.path), t.name, source.level, source.parent_path)
            self.working[t.path] = part
            self.bumped.add(t.path)
            record.created.append(part)
        for child in children:
            target_path = op.children[child.path]
            self._move_subtree(child.path, f"{target_path}.{child.code}", target_path, record, [*loc, "children"])
        for key, value in self.forward.items():
            if value == source.path:
                self.forward[key] = None  # resolved per cadre
        self.overrides.update(op.cadres)
        record.mapping[source.path] = [t.path for t in op.into]
        self.records.append(record)

    def dissolve_level(self, op: DissolveLevel, loc: list[str | int]) -> None:
        self._require(op.under, [*loc, "under"])
        dissolved = [u for u in self.working.values() if u.level == op.level and _under(u.path, op.under) and u.path != op.under]
        if not dissolved:
            raise PlanError([*loc, "level"], f"no current {op.level} unit under {op.under!r}")
        record = OperationRecord("dissolve", op.under)
        if op.retier:
            originals = frozenset(
                old for old, now in self.forward.items() if now is not None and any(_under(now, u.path) for u in dissolved)
            )
            self.retiers.append(Retier(op.under, originals, dict(op.retier), (*loc, "retier")))
        for unit in sorted(dissolved, key=lambda u: u.path):
            parent = unit.parent_path
            assert parent is not None
            for child in self._children(unit.path):
                self._move_subtree(child.path, f"{parent}.{child.code}", parent, record, [*loc, "level"])
            del self.working[unit.path]
            record.retired.append(unit)
            record.mapping[unit.path] = [parent]
            self._retarget(unit.path, parent)
        self.records.append(record)

    # -- result ------------------------------------------------------------------------------------

    def apply(self, operations: Sequence[ReorganisationOperation]) -> Plan:
        for index, op in enumerate(operations):
            loc: list[str | int] = ["operations", index]
            if isinstance(op, RenameUnit):
                self.rename(op, loc)
            elif isinstance(op, MergeUnits):
                self.merge(op, loc)
            elif isinstance(op, SplitUnit):
                self.split(op, loc)
            else:
                self.dissolve_level(op, loc)
        changed = {p for p in self.original if self.working.get(p) != self.original[p] or p in self.bumped}
        closed = [self.original[p] for p in sorted(changed)]
        created = [
            u for p, u in sorted(self.working.items()) if p not in self.original or u != self.original[p] or p in self.bumped
        ]
        forward = {old: new for old, new in self.forward.items() if new is not None and new != old}
        return Plan(closed, created, forward, dict(self.overrides), self.records, self.retiers, dict(self.working))


def plan(
    current: Mapping[str, UnitState],
    operations: Sequence[ReorganisationOperation],
    split_cadres: Mapping[str, set[uuid.UUID]] | None = None,
) -> Plan:
    return Planner(current, split_cadres or {}).apply(operations)


# -- where each moved cadre ends up, and with which tier ---------------------------------------------------


@dataclass(frozen=True)
class CadreState:
    """What the planner needs of a cadre the reorganisation touches."""

    id: uuid.UUID
    tier: ManagementTier
    managing_unit: str
    residence_unit: str | None


@dataclass(frozen=True)
class Outcome:
    id: uuid.UUID
    unit: str
    tier: ManagementTier


class Outcomes:
    """Each touched cadre's managing unit and tier after the plan, or the reasons it cannot have them: no
    current managing unit, or a tier its new board may not manage on the effective date (the rules)."""

    def __init__(self, plan: Plan, rules: Sequence[TierRule], effective: date) -> None:
        self.plan, self.rules, self.effective = plan, rules, effective

    def _followed(self, path: str) -> str:
        """A path as it stands after the plan: its own forward, or its deepest forwarded ancestor's."""
        if path in self.plan.forward:
            return self.plan.forward[path]
        best = max((old for old in self.plan.forward if _under(path, old)), key=len, default=None)
        return path if best is None else self.plan.forward[best] + path[len(best) :]

    def _retier(self, cadre: CadreState) -> tuple[Retier, RetierTarget] | None:
        for retier in self.plan.retiers:
            if cadre.managing_unit in retier.units and cadre.tier in retier.tiers:
                return retier, retier.tiers[cadre.tier]
        return None

    def _target(self, cadre: CadreState, moved_to: str | None) -> tuple[str | None, ManagementTier, str | None]:
        """(unit, tier, problem)."""
        found = self._retier(cadre)
        if found is None:
            return moved_to, cadre.tier, None
        retier, target = found
        if target.unit is None:
            return moved_to, target.tier, None
        source = cadre.residence_unit if target.unit == RESIDENCE else target.unit
        if source is None:
            return None, target.tier, "no residence unit to be managed by"
        unit = self._followed(source)
        if not _under(unit, self._followed(retier.under)):
            return None, target.tier, f"{unit!r} ({target.unit}) is outside {retier.under!r}"
        return unit, target.tier, None

    def of(self, cadre: CadreState, moved_to: str | None) -> tuple[Outcome | None, str | None]:
        """`moved_to`: where the plan alone sends the cadre (None: the cadre stays where it is)."""
        unit, tier, problem = self._target(cadre, moved_to)
        unit = unit or cadre.managing_unit
        if problem is not None:
            return None, problem
        state = self.plan.after.get(unit)
        if state is None:
            return None, f"would be managed by {unit!r}, which is no current unit once the reorganisation applies"
        province = None if state.level is UnitLevel.NATION else province_of(unit)
        refusal = tier_problem(self.rules, state.level, tier, province, self.effective)
        if refusal is not None:
            return None, f"tier {tier.value!r} at {unit!r}: {refusal}"
        return Outcome(cadre.id, unit, tier), None
