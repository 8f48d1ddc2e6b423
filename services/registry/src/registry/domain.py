"""Registry rules with no I/O: name folding for search, which tiers a unit level may manage."""

from unidecode import unidecode

from contracts.enums import PROVINCIAL_TIERS, ManagementTier, UnitLevel

TIERS_BY_LEVEL: dict[UnitLevel, frozenset[ManagementTier]] = {
    UnitLevel.NATION: frozenset({ManagementTier.CENTRAL}),
    UnitLevel.PROVINCE: frozenset({ManagementTier.CENTRAL, ManagementTier.TREATMENT_ONLY} | PROVINCIAL_TIERS),
    UnitLevel.DISTRICT: frozenset({ManagementTier.DISTRICT, ManagementTier.TREATMENT_ONLY}),
    UnitLevel.COMMUNE: frozenset({ManagementTier.DISTRICT, ManagementTier.TREATMENT_ONLY}),
}


def fold_name(name: str) -> str:
    """'Nguyễn Văn Đức' -> 'nguyen van duc': search works with or without diacritics."""
    return " ".join(unidecode(name).lower().split())


def tier_allowed(level: UnitLevel, tier: ManagementTier) -> bool:
    return tier in TIERS_BY_LEVEL[level]
