"""Reference data shipped with clinical: the ICD-10 code list and the chronic-condition grouping (see data/README.md)."""

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

CODE_PATTERN = re.compile(r"^([A-Z][0-9][0-9A-Z])(?:\.([0-9A-Z]{1,4}))?$")
UNDOTTED_PATTERN = re.compile(r"^([A-Z][0-9][0-9A-Z])([0-9A-Z]{1,4})$")


def normalise_icd10(raw: str) -> str:
    """Upper case, no spaces, dagger/asterisk marks dropped, `E119` read as `E11.9`."""
    code = raw.strip().upper().replace(" ", "").rstrip("*+†")
    undotted = UNDOTTED_PATTERN.match(code)
    if undotted:
        code = f"{undotted.group(1)}.{undotted.group(2)}"
    return code


def category_of(code: str) -> str:
    return code[:3]


def _expand_run(first: str, last: str) -> list[str]:
    if first[0] != last[0] or not first[1:].isdigit() or not last[1:].isdigit() or first > last:
        raise ValueError(f"bad run {first}-{last}")
    return [f"{first[0]}{number:02d}" for number in range(int(first[1:]), int(last[1:]) + 1)]


@dataclass(frozen=True)
class Icd10:
    categories: frozenset[str]
    titles: dict[str, str]

    def check(self, raw: str) -> tuple[str, str | None]:
        """(normalised code, None) when valid, else (normalised code, the reason it is refused)."""
        code = normalise_icd10(raw)
        if not CODE_PATTERN.match(code):
            return code, f"{raw!r} is not an ICD-10 code (expected a letter, two digits, optionally . and up to 4 more)"
        if category_of(code) not in self.categories:
            return code, f"unknown ICD-10 code {code!r}: no category {category_of(code)!r} in the ICD-10 list"
        return code, None

    def title(self, code: str) -> str | None:
        return self.titles.get(code) or self.titles.get(category_of(code))


def parse_icd10(text: str) -> Icd10:
    categories: set[str] = set()
    titles: dict[str, str] = {}
    for line_number, raw_line in enumerate(text.splitlines(), 1):
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        entry, _, title = line.partition(" ")
        try:
            if "-" in entry:
                first, last = entry.split("-")
                categories.update(_expand_run(first, last))
            elif CODE_PATTERN.match(entry):
                categories.add(category_of(entry))
                if title:
                    titles[entry] = title.strip()
            else:
                raise ValueError(f"bad entry {entry!r}")
        except ValueError as exc:
            raise ValueError(f"icd10_categories.txt line {line_number}: {exc}") from exc
    return Icd10(frozenset(categories), titles)


@cache
def icd10() -> Icd10:
    return parse_icd10((resources.files("clinical") / "data" / "icd10_categories.txt").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ChronicGroup:
    group: str
    label_vi: str
    label_en: str
    categories: frozenset[str]
    prefixes: tuple[str, ...]  # subcode prefixes such as "E79.0"

    def matches(self, code: str) -> bool:
        return category_of(code) in self.categories or any(code.startswith(p) for p in self.prefixes)


def parse_groups(text: str) -> tuple[ChronicGroup, ...]:
    groups: list[ChronicGroup] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("group\t"):
            continue
        group, label_vi, label_en, codes = line.split("\t")
        categories: set[str] = set()
        prefixes: list[str] = []
        for item in codes.split(","):
            item = item.strip()
            if "-" in item:
                categories.update(_expand_run(*item.split("-")))
            elif "." in item:
                prefixes.append(item)
            else:
                categories.add(item)
        groups.append(ChronicGroup(group, label_vi, label_en, frozenset(categories), tuple(prefixes)))
    return tuple(groups)


@cache
def chronic_groups() -> tuple[ChronicGroup, ...]:
    return parse_groups((resources.files("clinical") / "data" / "chronic_groups.tsv").read_text(encoding="utf-8"))


@cache
def _groups_by_category() -> dict[str, tuple[int, ...]]:
    index: dict[str, list[int]] = {}
    for position, group in enumerate(chronic_groups()):
        for category in group.categories:
            index.setdefault(category, []).append(position)
    return {category: tuple(positions) for category, positions in index.items()}


@lru_cache(maxsize=8192)
def _groups_of_code(code: str) -> frozenset[int]:
    """Positions of the groups one (normalised) code falls in; a few hundred codes recur, so this is cached."""
    found = set(_groups_by_category().get(category_of(code), ()))
    found.update(p for p, g in enumerate(chronic_groups()) if g.prefixes and any(code.startswith(x) for x in g.prefixes))
    return frozenset(found)


def groups_of(codes: list[str]) -> list[str]:
    """The chronic groups the given (normalised) codes fall in, in the data's order."""
    groups = chronic_groups()
    found: set[int] = set()
    for code in codes:
        found |= _groups_of_code(code)
    return [groups[p].group for p in sorted(found)]
