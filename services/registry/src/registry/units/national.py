"""The whole country's administrative units before and after 1 July 2025, read from two kept packages, no I/O
beyond their own data files.

- `vietnam-provinces` (GPL-3.0-or-later; the GSO's list as of its `__data_version__`): the 34 provinces and
  3,321 communes since 1 July 2025, with their official codes and names. It is the authority for codes and
  names of the new map.
- `vietnamadminunits` (MIT): the 63-province map with districts and communes (`admin_units_legacy`), the new
  communes' coordinates (`admin_units`) and the official old -> new mapping down to communes
  (`converter_2025.json`). Its files are read read-only; nothing of it that geocodes is called.

The packages disagree on 131 of the 3,321 new commune codes (the same commune under another code, mostly a
code of one of the communes it was formed from). Communes are matched by province and name instead (folded
without diacritics; where two communes of a province fold alike, by the exact name), so every commune carries
the GSO code from `vietnam-provinces`; `NationalUnits.code_mismatches` lists the disagreements.

Paths: `VN.<province>` (2 digits), `VN.<p>.<district>` (3), `VN.<p>.<d>.<commune>` (5) before the reform;
`VN.<p>.<commune>` after it (no district level). A province that keeps its code continues its path.
"""

import importlib.util
import json
import re
import sqlite3
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from unidecode import unidecode

from contracts.enums import UnitLevel

NATION = "VN"
NATION_NAME = "Việt Nam"
NATION_FROM = date(1976, 7, 2)  # the reunified state
# The 63-province map held from 1 August 2008 (Hà Tây merged into Hà Nội) to 30 June 2025. The data set is the
# last state before the reform, so districts and communes also start there: earlier changes are not in it.
LEGACY_FROM = date(2008, 8, 1)
REFORM_DATE = date(2025, 7, 1)  # Resolution 202/2025/QH15 and the Law on Local Government 2025
REFORM_REASON = (
    "Nghị quyết 202/2025/QH15 (34 tỉnh, thành phố) và Luật Tổ chức chính quyền địa phương 2025 "
    "(kết thúc cấp huyện; 3.321 xã, phường, đặc khu) — dữ liệu vietnam-provinces, vietnamadminunits"
)


@dataclass(frozen=True)
class UnitRecord:
    path: str
    code: str
    name: str
    level: UnitLevel
    parent_path: str | None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Successor:
    old_path: str
    new_path: str
    is_default: bool  # where the old unit's people go when nothing else (their residence) says


@dataclass(frozen=True)
class CodeMismatch:
    province: str
    name: str
    vietnamadminunits_code: str
    vietnam_provinces_code: str


@dataclass(frozen=True)
class NationalUnits:
    nation: UnitRecord
    legacy: tuple[UnitRecord, ...]  # the 63 provinces, their districts and communes, parents first
    current: tuple[UnitRecord, ...]  # the 34 provinces and their communes, parents first
    successors: tuple[Successor, ...]  # old path -> new path, every old province, district and commune
    new_province_of: dict[str, str]  # old province path -> new province path
    code_mismatches: tuple[CodeMismatch, ...] = ()
    _by_old: dict[str, tuple[Successor, ...]] = field(default_factory=dict, compare=False, repr=False)

    def successors_of(self, old_path: str) -> tuple[Successor, ...]:
        """The default successor first."""
        if not self._by_old:
            grouped: dict[str, list[Successor]] = defaultdict(list)
            for s in self.successors:
                grouped[s.old_path].append(s)
            self._by_old.update({k: tuple(sorted(v, key=lambda s: not s.is_default)) for k, v in grouped.items()})
        return self._by_old.get(old_path, ())

    def sources_of(self, new_province: str) -> list[str]:
        return sorted(old for old, new in self.new_province_of.items() if new == new_province)

    def unchanged_provinces(self) -> frozenset[str]:
        """Provinces of the new map that are an old one under the same path and name: their version continues."""
        old_names = {u.path: u.name for u in self.legacy if u.level == UnitLevel.PROVINCE}
        return frozenset(
            u.path
            for u in self.current
            if u.level == UnitLevel.PROVINCE and self.sources_of(u.path) == [u.path] and old_names.get(u.path) == u.name
        )

    def with_successors(self, extra: Iterable[Successor]) -> "NationalUnits":
        """The same data with more successions (units of the registry the data set does not know)."""
        added = tuple(extra)
        if not added:
            return self
        return NationalUnits(
            self.nation, self.legacy, self.current, self.successors + added, self.new_province_of, self.code_mismatches
        )

    def for_provinces(self, provinces: Collection[str]) -> "NationalUnits":
        """Only the given new provinces (paths like VN.68) and the old provinces they were formed from."""
        new = set(provinces)
        unknown = new - {u.path for u in self.current if u.level == UnitLevel.PROVINCE}
        if unknown:
            raise ValueError(f"not provinces of the 2025 map: {sorted(unknown)}")
        old = {o for o, n in self.new_province_of.items() if n in new}
        return NationalUnits(
            nation=self.nation,
            legacy=tuple(u for u in self.legacy if _province(u.path) in old),
            current=tuple(u for u in self.current if _province(u.path) in new),
            successors=tuple(s for s in self.successors if _province(s.old_path) in old),
            new_province_of={o: n for o, n in self.new_province_of.items() if n in new},
            code_mismatches=tuple(m for m in self.code_mismatches if m.province in new),
        )


def _province(path: str) -> str:
    return ".".join(path.split(".")[:2])


# --- reading the packages ------------------------------------------------------------------------------


def coarse_key(name: str) -> str:
    """'Xã Hoà An' and 'Xã Hòa An' -> 'xahoaan' (both packages spell tones and spaces differently)."""
    return re.sub(r"[^a-z0-9]", "", unidecode(name).lower())


# In decomposed form, the old style puts the tone after the second vowel of oa/oe/uy ('hoà'), the new after the first
_OLD_STYLE_TONE = re.compile("([ou])([aey])([\u0300\u0301\u0303\u0309\u0323])")


def fine_key(name: str) -> str:
    """Exact spelling up to case, spacing, apostrophes and where the tone mark sits ('Hoà' = 'Hòa')."""
    text = unicodedata.normalize("NFD", " ".join(name.replace("\u2019", "'").lower().split()))
    return unicodedata.normalize("NFC", _OLD_STYLE_TONE.sub(r"\1\3\2", text))


def clean_name(name: str) -> str:
    return " ".join(name.split())


def _data_file(package: str, name: str) -> Path:
    """A file of a package's data folder, found without importing the package (vietnamadminunits loads its address
    parser's tables on import: seconds)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / name


def _gso_divisions() -> list[dict[str, Any]]:
    raw = _data_file("vietnam_provinces", "nested-divisions.json").read_text(encoding="utf-8")
    data: list[dict[str, Any]] = json.loads(raw)
    return data


def _converter() -> dict[str, Any]:
    raw = _data_file("vietnamadminunits", "converter_2025.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


def _dataset_rows(query: str) -> list[sqlite3.Row]:
    connection = sqlite3.connect(f"file:{_data_file('vietnamadminunits', 'dataset.db')}?mode=ro&immutable=1", uri=True)
    try:
        connection.row_factory = sqlite3.Row
        return list(connection.execute(query))
    finally:
        connection.close()


def _province_name(name: str, division_type: str) -> str:
    if name.startswith(("Tỉnh ", "Thành phố ")):
        return name
    return ("Thành phố " if division_type == "thành phố trung ương" else "Tỉnh ") + name


@dataclass
class _Legacy:
    units: list[UnitRecord]
    path_of_key: dict[str, str]  # 'tinhlamdong_thanhphodalat_phuong1' -> commune path ('..._' -> district path)
    province_of_key: dict[str, str]  # 'tinhlamdong' -> 'VN.68'
    seats: dict[str, str]  # district path -> path of its first thị trấn


def _legacy() -> _Legacy:
    rows = _dataset_rows(
        "SELECT province, district, ward, wardType, provinceCode, districtCode, wardCode, provinceLat, provinceLon,"
        " districtLat, districtLon, wardLat, wardLon, provinceKey, districtKey, wardKey"
        " FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode"
    )
    provinces: dict[str, UnitRecord] = {}
    districts: dict[str, UnitRecord] = {}
    communes: list[UnitRecord] = []
    legacy = _Legacy([], {}, {}, {})
    for r in rows:
        p = f"{NATION}.{r['provinceCode']}"
        d = f"{p}.{r['districtCode']}"
        provinces.setdefault(
            p, UnitRecord(p, r["provinceCode"], r["province"], UnitLevel.PROVINCE, NATION, r["provinceLat"], r["provinceLon"])
        )
        districts.setdefault(
            d, UnitRecord(d, r["districtCode"], r["district"], UnitLevel.DISTRICT, p, r["districtLat"], r["districtLon"])
        )
        legacy.province_of_key[r["provinceKey"]] = p
        key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
        if r["wardCode"] is None:  # an island district without communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo)
            legacy.path_of_key[key] = d
            continue
        c = f"{d}.{r['wardCode']}"
        communes.append(UnitRecord(c, r["wardCode"], r["ward"], UnitLevel.COMMUNE, d, r["wardLat"], r["wardLon"]))
        legacy.path_of_key[key] = c
        if r["wardType"] == "Thị trấn":
            legacy.seats.setdefault(d, c)
    legacy.units = [*provinces.values(), *districts.values(), *communes]
    return legacy


@dataclass
class _Current:
    units: list[UnitRecord]
    path_of_key: dict[tuple[str, str], str]  # (provinceKey, wardKey) -> commune path
    province_of_key: dict[str, str]
    mismatches: list[CodeMismatch]


def _match_communes(gso: dict[str, list[dict[str, Any]]], rows: list[sqlite3.Row]) -> dict[str, dict[str, Any]]:
    """vietnamadminunits ward code -> the GSO commune (from vietnam-provinces) of the same province and name."""
    matched: dict[str, dict[str, Any]] = {}
    for province, wards in gso.items():
        by_coarse: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for ward in wards:
            by_coarse[coarse_key(ward["name"])].append(ward)
        for r in (r for r in rows if r["provinceCode"] == province):
            candidates = by_coarse.get(coarse_key(r["ward"]), [])
            if len(candidates) > 1:
                candidates = [w for w in candidates if fine_key(w["name"]) == fine_key(r["ward"])]
            if len(candidates) != 1:
                raise ValueError(f"commune {r['ward']!r} of province {province} has {len(candidates)} matches")
            matched[r["wardCode"]] = candidates[0]
    if len({id(w) for w in matched.values()}) != len(matched):
        raise ValueError("two communes of vietnamadminunits match one GSO commune")
    return matched


def _current() -> _Current:
    divisions = _gso_divisions()
    gso = {f"{p['code']:02d}": p["wards"] for p in divisions}
    rows = _dataset_rows(
        "SELECT province, ward, provinceCode, wardCode, provinceLat, provinceLon, wardLat, wardLon, provinceKey, wardKey"
        " FROM admin_units ORDER BY provinceCode, wardCode"
    )
    matched = _match_communes(gso, rows)
    coords = {r["provinceCode"]: (r["provinceLat"], r["provinceLon"]) for r in rows}
    result = _Current([], {}, {}, [])
    for p in divisions:
        code = f"{p['code']:02d}"
        lat, lon = coords[code]
        result.units.append(
            UnitRecord(
                f"{NATION}.{code}", code, _province_name(p["name"], p["division_type"]), UnitLevel.PROVINCE, NATION, lat, lon
            )
        )
    communes: list[UnitRecord] = []
    for r in rows:
        ward = matched[r["wardCode"]]
        code, province = f"{ward['code']:05d}", f"{NATION}.{r['provinceCode']}"
        path = f"{province}.{code}"
        communes.append(UnitRecord(path, code, clean_name(ward["name"]), UnitLevel.COMMUNE, province, r["wardLat"], r["wardLon"]))
        result.path_of_key[(r["provinceKey"], r["wardKey"])] = path
        result.province_of_key[r["provinceKey"]] = province
        if code != r["wardCode"]:
            result.mismatches.append(CodeMismatch(province, clean_name(ward["name"]), r["wardCode"], code))
    result.units += sorted(communes, key=lambda u: u.path)
    return result


def _district_successors(
    legacy: _Legacy, commune_successors: dict[str, list[Successor]], island: dict[str, str]
) -> list[Successor]:
    """A dissolved district -> every commune formed (wholly or partly) from its territory. Its default: the
    successor of its seat (its first thị trấn) if it had one, else the commune formed from most of its
    communes (ties: the lowest code)."""
    result: list[Successor] = []
    by_district: dict[str, Counter[str]] = defaultdict(Counter)
    for old, successors in commune_successors.items():
        district = old.rsplit(".", 1)[0]
        for s in successors:
            by_district[district][s.new_path] += 1
    for district, new_path in island.items():
        by_district[district][new_path] += 1
    for district, tally in sorted(by_district.items()):
        seat = legacy.seats.get(district)
        seat_default = next((s.new_path for s in commune_successors.get(seat or "", []) if s.is_default), None)
        default = seat_default or min(tally, key=lambda path: (-tally[path], path))
        result += [Successor(district, new, new == default) for new in sorted(tally)]
    return result


def _successors(legacy: _Legacy, current: _Current, converter: dict[str, Any]) -> tuple[list[Successor], dict[str, str]]:
    new_province_of = {
        legacy.province_of_key[old]: current.province_of_key[new]
        for new, olds in converter["DICT_PROVINCE"].items()
        for old in olds
    }
    communes: dict[str, list[Successor]] = defaultdict(list)
    island: dict[str, str] = {}
    for province_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, old_keys in wards.items():
            new_path = current.path_of_key[(province_key, ward_key)]
            for old_key in old_keys:
                old_path = legacy.path_of_key[old_key]
                if old_key.endswith("_"):
                    island[old_path] = new_path
                else:
                    communes[old_path].append(Successor(old_path, new_path, True))
    for province_key, old_communes in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in old_communes.items():
            old_path = legacy.path_of_key[old_key]
            communes[old_path] += [
                Successor(old_path, current.path_of_key[(province_key, p["newWardKey"])], bool(p["isDefaultNewWard"]))
                for p in parts
            ]
    provinces = [Successor(old, new, True) for old, new in sorted(new_province_of.items())]
    districts = _district_successors(legacy, communes, island)
    flat = [s for old in sorted(communes) for s in sorted(communes[old], key=lambda s: s.new_path)]
    return [*provinces, *districts, *flat], new_province_of


@cache
def national_units() -> NationalUnits:
    """Built once per process (the packages' data does not change while it runs)."""
    legacy, current = _legacy(), _current()
    successors, new_province_of = _successors(legacy, current, _converter())
    return NationalUnits(
        nation=UnitRecord(NATION, NATION, NATION_NAME, UnitLevel.NATION, None),
        legacy=tuple(legacy.units),
        current=tuple(current.units),
        successors=tuple(successors),
        new_province_of=new_province_of,
        code_mismatches=tuple(current.mismatches),
    )


def levels(units: Iterable[UnitRecord]) -> Counter[UnitLevel]:
    return Counter(u.level for u in units)
