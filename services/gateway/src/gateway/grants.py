"""Grant rules with no I/O: which grants are in force, who may hand out which grant, and how grants
follow a reorganisation of administrative units (merge, split, dissolve)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, Principal, unit_covers


@dataclass(frozen=True)
class GrantTerms:
    """What a grant row says, whatever table it comes from."""

    unit_path: str
    tiers: frozenset[ManagementTier]
    actions: frozenset[Action]
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    revoked_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        if self.valid_from is not None and self.valid_from > now:
            return False
        return self.valid_to is None or self.valid_to > now

    def as_grant(self) -> Grant:
        return Grant(unit_path=self.unit_path, tiers=self.tiers, actions=self.actions)


def grants_in_force(rows: Iterable[GrantTerms], now: datetime) -> tuple[Grant, ...]:
    """The grants a principal holds at `now`, merged where unit and tiers are equal, in a stable order."""
    merged: dict[tuple[str, frozenset[ManagementTier]], set[Action]] = {}
    for row in rows:
        if row.in_force(now) and row.tiers and row.actions:
            merged.setdefault((row.unit_path, row.tiers), set()).update(row.actions)
    return tuple(
        Grant(unit_path=unit, tiers=tiers, actions=frozenset(actions))
        for (unit, tiers), actions in sorted(merged.items(), key=lambda item: (item[0][0], sorted(item[0][1])))
    )


def may_hand_out(writer: Principal, unit_path: str, tiers: Iterable[ManagementTier], actions: Iterable[Action]) -> bool:
    """An administrator hands out only what it holds itself: no grant wider than the writer's own."""
    return all(writer.may(action, unit_path, tier) for tier in tiers for action in actions)


def remap_unit(path: str, mapping: Mapping[str, list[str]]) -> list[str] | None:
    """Where a unit path goes in a reorganisation: None if unaffected, else its successors (maybe none).

    The deepest mapped ancestor decides: `VN.68.674.24800` under a merged `VN.68.674` -> `VN.68.672.24800`
    unless the commune itself has its own entry.
    """
    best: str | None = None
    for old in mapping:
        if unit_covers(old, path) and (best is None or len(old) > len(best)):
            best = old
    if best is None:
        return None
    suffix = path[len(best) :]
    return [successor + suffix for successor in mapping[best]]


def widened_for_record(grants: tuple[Grant, ...], managing_unit: str, tier: ManagementTier) -> tuple[Grant, ...]:
    """The grants plus read access on one record's (managing unit, tier): used only for requests aimed at
    that record by id, while a break-the-glass grant is in force."""
    return (*grants, Grant(unit_path=managing_unit, tiers=frozenset({tier}), actions=frozenset({Action.READ})))


def home_unit(grants: Iterable[Grant]) -> str | None:
    """The unit a principal belongs to, for the audit trail: the shortest path among its grants."""
    paths = sorted({g.unit_path for g in grants}, key=lambda p: (p.count("."), p))
    return paths[0] if paths else None
