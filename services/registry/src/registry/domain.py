"""Registry rules with no I/O: name folding, tiers by unit level and date (effective-dated rules), the CCCD,
lifecycle transitions, cards."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from unidecode import unidecode

from contracts.enums import PROVINCIAL_TIERS, Action, CadreStatus, ManagementTier, Sex, UnitLevel
from contracts.scope import Principal, unit_covers

ADULT_AGE = 18
# CCCD digit 4: century and sex (Circular 59/2021/TT-BCA): 0/1 1900s, 2/3 2000s, 4/5 2100s, 6/7 2200s, 8/9 1800s.
CENTURY_OF_DIGIT = {0: 1900, 1: 1900, 2: 2000, 3: 2000, 4: 2100, 5: 2100, 6: 2200, 7: 2200, 8: 1800, 9: 1800}
PROVINCE_CODES = range(1, 97)  # 001-096

Problem = tuple[str, str]  # (field, reason)


def fold_name(name: str) -> str:
    """'Nguyễn Văn Đức' -> 'nguyen van duc': search works with or without diacritics."""
    return " ".join(unidecode(name).lower().split())


def name_key(name: str) -> str:
    """'Nguyễn Văn Đức' -> 'duc nguyen van': the given name first, so a search by given name is a prefix search."""
    words = fold_name(name).split()
    return " ".join(words[-1:] + words[:-1])


def name_fields(name: str) -> dict[str, Any]:
    return {"name_folded": fold_name(name), "name_key": name_key(name)}


# --- management tiers by unit level, as effective-dated data ------------------------------------------
#
# Stable names other features (and the national loader) import: TierRule, DEFAULT_TIER_RULES, REFORM_2025,
# province_of, tier_allowed, tier_allowed_throughout, allowed_tiers, tier_problem.

ALWAYS = date(1900, 1, 1)  # "since before the platform's oldest record"
REFORM_2025 = date(2025, 7, 1)  # Resolution 202/2025/QH15: no district level, communes under the province


@dataclass(frozen=True)
class TierRule:
    """`tier` may be managed at a unit of `level` in `province` (a path like VN.68; None: every province)
    on the days [valid_from, valid_to). Rules only allow: a tier is allowed when any rule says so."""

    tier: ManagementTier
    level: UnitLevel
    province: str | None
    valid_from: date
    valid_to: date | None = None

    def holds(self, level: UnitLevel, tier: ManagementTier, province: str | None, on: date) -> bool:
        return (
            self.tier == tier
            and self.level == level
            and (self.province is None or self.province == province)
            and self.valid_from <= on
            and (self.valid_to is None or on < self.valid_to)
        )


def _national(tier: ManagementTier, level: UnitLevel, start: date = ALWAYS, end: date | None = None) -> TierRule:
    return TierRule(tier, level, None, start, end)


# The rules the registry's migration 0005 seeds: before 1 July 2025 district boards (their districts and
# communes), since then commune boards; provinces and the nation unchanged. Treatment-only cadres are cared
# for at every level that has a board.
DEFAULT_TIER_RULES: tuple[TierRule, ...] = (
    _national(ManagementTier.CENTRAL, UnitLevel.NATION),
    _national(ManagementTier.CENTRAL, UnitLevel.PROVINCE),
    *(_national(tier, UnitLevel.PROVINCE) for tier in sorted(PROVINCIAL_TIERS)),
    _national(ManagementTier.TREATMENT_ONLY, UnitLevel.PROVINCE),
    _national(ManagementTier.DISTRICT, UnitLevel.DISTRICT, end=REFORM_2025),
    _national(ManagementTier.TREATMENT_ONLY, UnitLevel.DISTRICT, end=REFORM_2025),
    _national(ManagementTier.DISTRICT, UnitLevel.COMMUNE, end=REFORM_2025),
    _national(ManagementTier.TREATMENT_ONLY, UnitLevel.COMMUNE),
    _national(ManagementTier.COMMUNE, UnitLevel.COMMUNE, start=REFORM_2025),
)


def province_of(path: str) -> str | None:
    """'VN.68.672.24781' -> 'VN.68'; the nation (and a path outside VN) has none. A non-territorial body's path
    (VN.BQP) comes out as itself, which no province rule names: only national rules apply to it."""
    parts = path.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else None


def tier_allowed(rules: Sequence[TierRule], level: UnitLevel, tier: ManagementTier, province: str | None, on: date) -> bool:
    """Whether a board of a unit of `level` in `province` may manage cadres of `tier` on the day `on`."""
    return any(rule.holds(level, tier, province, on) for rule in rules)


def allowed_tiers(rules: Sequence[TierRule], level: UnitLevel, province: str | None, on: date) -> frozenset[ManagementTier]:
    return frozenset(t for t in ManagementTier if tier_allowed(rules, level, t, province, on))


def tier_allowed_throughout(
    rules: Sequence[TierRule], level: UnitLevel, tier: ManagementTier, province: str | None, start: date, end: date
) -> bool:
    """Allowed on every day of [start, end]: checked on `start` and on each day a rule begins or ends in between
    (a state recorded from a past date holds until today, so it must be allowed all along)."""
    days = {start} | {d for r in rules for d in (r.valid_from, r.valid_to) if d is not None and start < d <= end}
    return all(tier_allowed(rules, level, tier, province, day) for day in days)


def tier_problem(
    rules: Sequence[TierRule],
    level: UnitLevel,
    tier: ManagementTier,
    province: str | None,
    start: date,
    end: date | None = None,
) -> str | None:
    """None, or why a board of that level may not manage the tier from `start` (to `end`, default `start`)."""
    if tier_allowed_throughout(rules, level, tier, province, start, max(start, end or start)):
        return None
    allowed = sorted(t.value for t in allowed_tiers(rules, level, province, start))
    where = f" in {province}" if province else ""
    return (
        f"a {level.value} board{where} does not manage tier {tier.value!r} on {start.isoformat()}"
        + (f" or after (until {end.isoformat()})" if end and end > start else "")
        + f"; allowed then: {allowed}"
    )


def national_id_problems(national_id: str, date_of_birth: date, sex: Sex) -> list[Problem]:
    """A CCCD is 12 digits: province (001-096), century+sex, the last two digits of the birth year, 6 digits."""
    if len(national_id) != 12 or not national_id.isdigit():
        return [("national_id", "a CCCD has exactly 12 digits")]
    if int(national_id[:3]) not in PROVINCE_CODES:
        return [("national_id", f"province code {national_id[:3]} is not between 001 and 096")]
    problems: list[Problem] = []
    digit = int(national_id[3])
    century = CENTURY_OF_DIGIT[digit]
    coded_sex = Sex.MALE if digit % 2 == 0 else Sex.FEMALE
    if not century <= date_of_birth.year < century + 100:
        problems.append(("national_id", f"digit 4 ({digit}) says born in the {century}s, date_of_birth is {date_of_birth.year}"))
    if int(national_id[4:6]) != date_of_birth.year % 100:
        problems.append(
            ("national_id", f"digits 5-6 ({national_id[4:6]}) do not match the birth year {date_of_birth.year} of date_of_birth")
        )
    if coded_sex != sex:
        problems.append(("national_id", f"digit 4 ({digit}) encodes sex {coded_sex.value}, sex is {sex.value}"))
    return problems


class Operation(StrEnum):
    REGISTER = "registered"
    UPDATE = "updated"
    RETIRE = "retired"
    CHANGE_TIER = "tier_changed"
    DIE = "died"
    REMOVE = "removed"
    TRANSFER = "transferred"
    REORGANISE = "reorganised"
    ISSUE_CARD = "card_issued"


@dataclass(frozen=True)
class CadreFacts:
    """What the lifecycle rules need to know of a cadre."""

    status: CadreStatus
    date_of_birth: date
    last_change: date  # start of the current period: no effective date may precede it
    tier: ManagementTier


def adulthood(date_of_birth: date) -> date:
    try:
        return date_of_birth.replace(year=date_of_birth.year + ADULT_AGE)
    except ValueError:  # 29 February
        return date(date_of_birth.year + ADULT_AGE, 3, 1)


def effective_date_problems(effective: date, *, date_of_birth: date, today: date, horizon_days: int) -> list[Problem]:
    if effective > today + timedelta(days=horizon_days):
        return [("effective_date", f"more than {horizon_days} days in the future")]
    if effective < date_of_birth:
        return [("effective_date", "before the date of birth")]
    return []


def transition_problems(
    operation: Operation,
    facts: CadreFacts,
    effective: date,
    *,
    today: date,
    horizon_days: int,
    new_tier: ManagementTier | None = None,
) -> list[Problem]:
    """Whether a lifecycle operation (or transfer) may happen to a cadre in this state on this date."""
    if facts.status is CadreStatus.DECEASED:
        return [("status", "the cadre is deceased: no change after death")]
    if facts.status is CadreStatus.REMOVED:
        return [("status", "the cadre was removed from the registry: no further change")]
    problems = effective_date_problems(effective, date_of_birth=facts.date_of_birth, today=today, horizon_days=horizon_days)
    if problems:
        return problems
    if effective < facts.last_change:
        return [("effective_date", f"before the last recorded change on {facts.last_change.isoformat()}")]
    if operation is Operation.RETIRE:
        if facts.status is not CadreStatus.ACTIVE:
            return [("status", f"only an active cadre can retire; this one is {facts.status.value}")]
        if effective < adulthood(facts.date_of_birth):
            return [("effective_date", f"retirement before the age of {ADULT_AGE}")]
    if operation is Operation.CHANGE_TIER and new_tier == facts.tier:
        return [("tier", f"the cadre already has tier {facts.tier.value}")]
    return []


def registration_problems(
    status: CadreStatus, status_since: date, date_of_birth: date, *, today: date, horizon_days: int
) -> list[Problem]:
    if status not in (CadreStatus.ACTIVE, CadreStatus.RETIRED):
        return [("status", "a new cadre is active or retired")]
    problems = [
        ("status_since", reason)
        for _, reason in effective_date_problems(
            status_since, date_of_birth=date_of_birth, today=today, horizon_days=horizon_days
        )
    ]
    if not problems and status is CadreStatus.RETIRED and status_since < adulthood(date_of_birth):
        problems.append(("status_since", f"retirement before the age of {ADULT_AGE}"))
    return problems


def may_reorganise(principal: Principal, unit_path: str) -> bool:
    """Reorganising a unit moves every cadre under it: it takes a write grant on the unit for every tier."""
    return any(
        Action.WRITE in g.actions and g.tiers >= frozenset(ManagementTier) and unit_covers(g.unit_path, unit_path)
        for g in principal.grants
    )


def province_code(unit_path: str) -> str:
    parts = unit_path.split(".")
    return parts[1] if len(parts) > 1 else "00"


def new_card_number(unit_path: str, issued_on: date) -> str:
    """'68-26-' + 8 random digits: province, year, serial. Uniqueness is the database's (primary key)."""
    return f"{province_code(unit_path)}-{issued_on.year % 100:02d}-{secrets.randbelow(10**8):08d}"


CARD_FIELDS = frozenset({"full_name", "date_of_birth", "sex", "national_id", "tier"})  # printed on the card
