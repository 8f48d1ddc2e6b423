"""Reading a residence address to today's commune, without I/O: the address parser of `vietnamadminunits` (offline,
its own data files) reads the old (63 provinces, with a district) or the new (34 provinces) form; the registry's
units and their successions, handed in as `UnitFacts`, say which commune that is today."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from contracts.api.addresses import AddressStatus
from registry.domain import fold_name

CACHE_SIZE = 65_536  # distinct addresses kept parsed; a national bulk run repeats the same communes a lot
MAX_HOPS = 8  # successions followed from an old unit (2025 is one hop; later reorganisations add more)
# type words before a district's name: "Thành phố Đà Lạt", "TP. Đà Lạt", "Quận 1", "Q.1", "Huyện Đức Trọng", "TX ..."
DISTRICT_WORDS = ("thanhpho", "thixa", "huyen", "quan", "tp", "tx", "q", "h")


@dataclass(frozen=True)
class Place:
    """A commune the parser found, as a registry unit path: VN.<p>.<d>.<ward> (old form) or VN.<p>.<ward> (new)."""

    path: str
    name: str  # in full, for the board: "Phường 1, Thành phố Đà Lạt, Tỉnh Lâm Đồng"
    ward: str = ""  # the commune's own name: "Phường 1"
    latitude: float | None = None
    longitude: float | None = None

    @property
    def province(self) -> str:
        return ".".join(self.path.split(".")[:2])

    @property
    def is_new(self) -> bool:
        return self.path.count(".") == 2


@dataclass(frozen=True)
class Reading:
    """Both readings of one address; `names_district` when a whole part of it is a district: the old form."""

    old: Place | None
    new: Place | None
    names_district: bool = False

    def places(self) -> list[Place]:
        """The readings to try, most likely first: only the old one when the address names a district (the new
        parser then matches a district's name as a commune's: "Phan Thiết" for "Phường Phan Thiết")."""
        if self.names_district:
            return [self.old] if self.old else []
        return [p for p in (self.new, self.old) if p is not None]


@dataclass(frozen=True)
class UnitFacts:
    """What the registry knows of the units a reading names: which are current (and which of those are communes),
    and each old unit's successors."""

    current: frozenset[str] = frozenset()
    communes: frozenset[str] = frozenset()
    successors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # (province path, commune name) -> today's communes of that name: the parser's data and the GSO's list (which
    # the registry loads) disagree on about 4% of the new communes' codes, never on their names
    named: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    status: AddressStatus
    commune: str | None = None
    candidates: tuple[str, ...] = ()
    reason: str | None = None
    latitude: float | None = None
    longitude: float | None = None


def key(text: str) -> str:
    """'Thành phố Đà Lạt' -> 'thanhphodalat': how the parser compares names, diacritics and spacing ignored."""
    return re.sub(r"[^a-z0-9]", "", fold_name(text))


def _bare(name_key: str) -> str:
    for word in DISTRICT_WORDS:
        if name_key.startswith(word) and len(name_key) > len(word):
            return name_key[len(word) :]
    return name_key


def names_district(address: str, district: str | None) -> bool:
    if not district:
        return False
    wanted = {key(district), _bare(key(district))}
    return any({key(part), _bare(key(part))} & wanted for part in address.split(",")[:-1] if key(part))


def _place(parts: list[str | None], unit: Any) -> Place | None:
    if not unit.ward or any(not part for part in parts):
        return None
    return Place(".".join(["VN", *(str(p) for p in parts)]), unit.get_address(), unit.ward, unit.latitude, unit.longitude)


@lru_cache(maxsize=CACHE_SIZE)
def _read(normalised: str) -> Reading:
    # imported on the first address, not at start-up: the package pulls numpy, shapely and geopy (about 1 s)
    from vietnamadminunits import ParseMode, parse_address  # type: ignore[import-untyped]  # never convert_address (network)

    old = parse_address(normalised, ParseMode.LEGACY, keep_street=False)
    new = parse_address(normalised, ParseMode.FROM_2025, keep_street=False)
    return Reading(
        old=_place([old.province_code, old.district_code, old.ward_code], old),
        new=_place([new.province_code, new.ward_code], new),
        names_district=names_district(normalised, old.district),
    )


def read_address(address: str) -> Reading:
    """Both readings, cached by the address with its spacing normalised (the parser takes a few ms an address)."""
    return _read(" ".join(address.split()))


def todays_units(path: str, facts: UnitFacts) -> set[str]:
    """The current units an old unit became, following successions (merges, splits; several reorganisations)."""
    found: set[str] = set()
    frontier, seen = {path}, {path}
    for _ in range(MAX_HOPS):
        following: set[str] = set()
        for unit in frontier:
            if unit in facts.current:
                found.add(unit)
                continue
            following |= set(facts.successors.get(unit, ())) - seen
        if not following:
            break
        seen |= following
        frontier = following
    return found


def resolve(reading: Reading, facts: UnitFacts) -> Outcome:
    """Today's commune of an address, or why there is none: the first reading the registry's units know wins."""
    places = reading.places()
    if not places:
        return Outcome(AddressStatus.UNRESOLVED, reason="no commune (xã, phường) found in the address")
    for place in places:
        today = sorted(todays_units(place.path, facts))
        if not today and place.is_new:
            today = sorted(facts.named.get((place.province, key(place.ward)), ()))
        if not today:
            continue
        if len(today) > 1:
            reason = f"{place.name} became {len(today)} units: choose the commune"
            return Outcome(AddressStatus.AMBIGUOUS, None, tuple(today), reason, place.latitude, place.longitude)
        if today[0] not in facts.communes:
            reason = f"{place.name} is today {today[0]}, not a commune"
            return Outcome(AddressStatus.UNRESOLVED, None, tuple(today), reason, place.latitude, place.longitude)
        return Outcome(AddressStatus.RESOLVED, today[0], tuple(today), None, place.latitude, place.longitude)
    named = "; ".join(p.name for p in places)
    return Outcome(AddressStatus.UNRESOLVED, reason=f"{named}: not among the registry's units")


def paths_named(readings: list[Reading]) -> set[str]:
    """The unit paths the readings name: what the service looks up (with their successors) in one go."""
    return {place.path for reading in readings for place in reading.places()}


def communes_named(readings: list[Reading]) -> set[tuple[str, str]]:
    """(province path, commune name) of the new-form readings: looked up by name where the code differs."""
    return {(place.province, place.ward) for reading in readings for place in reading.places() if place.is_new}
