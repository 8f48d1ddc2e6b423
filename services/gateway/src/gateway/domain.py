"""The gateway's rules, with no I/O.

Grants: which grants are in force, who may hand out which grant, and how grants follow a
reorganisation of administrative units (merge, split, dissolve).

Identities: which users and HIS clients a board's administrator manages, which roles it may give, the
password policy and the lockout after repeated failed sign-ins.

The audit trail's hash chain: each record's hash covers its content and the hash of the record
before it, so altering, removing or reordering any record breaks every hash after it.
"""

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, Principal, unit_covers
from gateway.timestamps import aware
from servicekit.scope import may_read_health_records

# Grants


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


def grant_within_own(writer: Principal, grant: Grant) -> bool:
    """may_hand_out for a whole grant: the central-tier health-records flag too comes only from a holder of it
    over the grant's unit."""
    if not may_hand_out(writer, grant.unit_path, grant.tiers, grant.actions):
        return False
    return not grant.central_tier_health_records or may_read_health_records(writer, grant.unit_path, ManagementTier.CENTRAL)


# Identities: the users and HIS clients a board's administrators manage

PERSON_LEVEL = frozenset({Action.READ, Action.WRITE})
PASSWORD_MAX_LENGTH = 1024


def administers(admin: Principal, unit_path: str, grants: Iterable[Grant]) -> bool:
    """Whether a user or client is the administrator's to see and manage: it belongs to a unit the
    administrator's person-level grants cover, and holds nothing the administrator could not hand out
    itself. A board never manages someone with wider rights than its own (a district board does not see
    its province's administrator; the central board does not see a provincial board's staff)."""
    covered = any(unit_covers(g.unit_path, unit_path) and g.actions & PERSON_LEVEL for g in admin.grants)
    return covered and all(grant_within_own(admin, g) for g in grants)


def role_beyond_own(admin: Principal, grants: Iterable[Grant], permissions: Iterable[str]) -> list[str]:
    """What of a role the administrator does not hold itself (empty: it may give the role)."""
    problems = [
        f"a grant on {g.unit_path} ({', '.join(sorted(g.actions))} of {', '.join(sorted(g.tiers))})"
        for g in grants
        if not grant_within_own(admin, g)
    ]
    missing = sorted(set(permissions) - admin.permissions)
    if missing:
        problems.append(f"the permissions {', '.join(missing)}")
    return problems


def password_problems(password: str, *, username: str, min_length: int) -> list[str]:
    """The password policy for passwords set through the API (the principals file's are the seed's)."""
    problems = []
    if len(password) < min_length:
        problems.append(f"must be at least {min_length} characters long")
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(f"must be at most {PASSWORD_MAX_LENGTH} characters long")
    if username and username.casefold() in password.casefold():
        problems.append("must not contain the username")
    if len(set(password)) < 5:
        problems.append("must use at least 5 different characters")
    return problems


@dataclass(frozen=True)
class LockoutPolicy:
    """Repeated failed password sign-ins lock the account for a while; a locked account refuses even its
    correct password (the guesser must not learn it has found it), until the time passes or an
    administrator unlocks it. Per account: the counter is the account's, not the caller's address."""

    max_failures: int
    minutes: float

    def locked(self, locked_until: datetime | None, now: datetime) -> bool:
        return locked_until is not None and aware(locked_until) > now

    def after_failure(self, failures: int, now: datetime) -> tuple[int, datetime | None]:
        """(failures counted, locked until) after one more failure: the count starts again once it locks."""
        failures += 1
        if failures >= self.max_failures:
            return 0, now + timedelta(minutes=self.minutes)
        return failures, None


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


def grant_successors(path: str, mapping: Mapping[str, list[str]], created: Iterable[str]) -> list[str] | None:
    """Where a grant on `path` goes in a reorganisation without ever covering more than it covered: None if
    the path is unaffected, else the successors (maybe none: the grant is then revoked).

    A successor is safe when it is a unit the reorganisation created (`created`: a new version begins there,
    so nothing that was not mapped onto it is under it) and everything mapped onto it or below it came from
    within `path`. A dissolved district's grant thus becomes grants on the communes that succeeded it (never
    on the province they moved up to); a province merged into another, or into a new one with others, keeps
    only its own former districts and communes (the merged province's own cadres, now under the survivor's
    path, need a grant an administrator decides); a renamed or recoded unit keeps its grant. A managing body
    closed into another body creates no unit, so a grant on it is revoked, never moved onto the receiver.
    """
    direct = remap_unit(path, mapping)
    if direct is None or direct == [path]:
        return direct
    new_units = set(created)
    sources: dict[str, set[str]] = {}
    for old, news in mapping.items():
        for new in news:
            sources.setdefault(new, set()).add(old)

    def safe(successor: str) -> bool:
        if successor not in new_units or (successor != path and unit_covers(successor, path)):  # an ancestor widens
            return False
        received = (old for new, olds in sources.items() if unit_covers(successor, new) for old in olds)
        return all(unit_covers(path, old) for old in received)

    chosen = [s for s in dict.fromkeys(direct) if safe(s)]
    if len(chosen) == len(set(direct)):
        return chosen
    below = sorted({new for old, news in mapping.items() if old.startswith(path + ".") for new in news if safe(new)})
    narrowest = [s for s in below if not any(other != s and unit_covers(other, s) for other in below)]
    return list(dict.fromkeys([*chosen, *narrowest]))


def widened_for_record(grants: tuple[Grant, ...], managing_unit: str, tier: ManagementTier) -> tuple[Grant, ...]:
    """The grants plus read access on one record's (managing unit, tier): used only for requests aimed at
    that record by id, while a break-the-glass grant is in force."""
    return (*grants, Grant(unit_path=managing_unit, tiers=frozenset({tier}), actions=frozenset({Action.READ})))


def home_unit(grants: Iterable[Grant]) -> str | None:
    """The unit a principal belongs to, for the audit trail: the shortest path among its grants."""
    paths = sorted({g.unit_path for g in grants}, key=lambda p: (p.count("."), p))
    return paths[0] if paths else None


# The audit trail's hash chain

GENESIS_HASH = "0" * 64

# The fields the hash covers, in this order; `hash` itself is not among them.
CHAINED_FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_kind",
    "actor_unit",
    "on_behalf_of",
    "operation",
    "method",
    "path",
    "subjects",
    "outcome",
    "status_code",
    "client_address",
    "correlation_id",
    "break_glass_id",
    "detail",
    "prev_hash",
)


def _hashed_time(value: Any) -> str:
    """A time as the chain hashes it, UTC with microseconds always written (orjson's own form drops zero ones)."""
    if isinstance(value, datetime):
        return aware(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raise TypeError(f"{type(value).__name__} is not hashed into the audit chain")


_SORTED_CHAINED_FIELDS = tuple(sorted(CHAINED_FIELDS))


def record_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the chained fields as compact JSON, keys sorted, UTF-8: the bytes of
    `json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))` over the fields with
    their times written as `_hashed_time` does, which every stored chain was hashed over. Made by orjson in a
    fifth of the time; the test suite holds the two to the same bytes."""
    content = {name: fields.get(name) for name in _SORTED_CHAINED_FIELDS}
    encoded = orjson.dumps(content, default=_hashed_time, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    valid: bool
    checked: int
    first_seq: int
    last_seq: int
    first_broken_seq: int | None = None
    problem: str | None = None


class ChainVerifier:
    """Walks the records in sequence order from the retention anchor; feed them in chunks, then finish."""

    def __init__(self, *, anchor_seq: int, anchor_hash: str) -> None:
        self.anchor_seq = anchor_seq
        self.expected_prev = anchor_hash
        self.expected_seq = anchor_seq + 1
        self.checked = 0
        self.last = anchor_seq
        self.failure: ChainCheck | None = None

    def feed(self, record: Mapping[str, Any]) -> bool:
        """False once the chain is broken (the failure is kept)."""
        if self.failure is not None:
            return False
        seq = int(record["seq"])
        problem: str | None = None
        if seq != self.expected_seq:
            problem, seq = f"record {self.expected_seq} is missing", self.expected_seq
        elif record["prev_hash"] != self.expected_prev:
            problem = "the link to the previous record is broken"
        elif record_hash(record) != record["hash"]:
            problem = "the record's content does not match its hash"
        if problem is not None:
            self.failure = ChainCheck(False, self.checked, self.anchor_seq + 1, self.last, seq, problem)
            return False
        self.expected_prev, self.expected_seq, self.last = record["hash"], seq + 1, seq
        self.checked += 1
        return True

    def finish(self, *, head_seq: int, head_hash: str) -> ChainCheck:
        if self.failure is not None:
            return self.failure
        if self.last != head_seq or self.expected_prev != head_hash:
            return ChainCheck(
                False, self.checked, self.anchor_seq + 1, self.last, self.last + 1, "records after the last one found are missing"
            )
        return ChainCheck(True, self.checked, self.anchor_seq + 1, self.last)


def verify_chain(
    records: Iterable[Mapping[str, Any]], *, anchor_seq: int, anchor_hash: str, head_seq: int, head_hash: str
) -> ChainCheck:
    verifier = ChainVerifier(anchor_seq=anchor_seq, anchor_hash=anchor_hash)
    for record in records:
        if not verifier.feed(record):
            break
    return verifier.finish(head_seq=head_seq, head_hash=head_hash)
