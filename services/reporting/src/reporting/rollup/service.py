"""The national roll-up by province: each figure counted per province in the caller's scope, then every
cell resting on fewer cadres than the threshold suppressed (and enough others that none can be recovered)."""

from collections import defaultdict
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.reporting import Cell, NationalRollup, ProvinceAggregate, UnitBasis
from contracts.enums import EncounterKind, ManagementTier, ReferralKind
from contracts.scope import Principal
from reporting.domain import CLASSIFICATION_CODES
from reporting.facts import for_analysis
from reporting.periods import NO_DATA, check_period
from reporting.rollup import queries
from reporting.suppression import RawCell, suppress
from servicekit import clock
from servicekit.scope import NATION

TIER_FIELDS = [f"cadres_{t.value}" for t in ManagementTier]
CLASS_FIELDS = [f"class_{c.code}" for c in CLASSIFICATION_CODES]
ACTIVITY_FIELDS = {
    (EncounterKind.OUTPATIENT_VISIT.value, None): "outpatient_visits",
    (EncounterKind.ADMISSION.value, None): "admissions",
    (EncounterKind.REFERRAL.value, ReferralKind.HIGHER_LEVEL.value): "referrals_higher_level",
    (EncounterKind.REFERRAL.value, ReferralKind.IN_PROVINCE.value): "referrals_in_province",
    (EncounterKind.REFERRAL.value, ReferralKind.ABROAD.value): "referrals_abroad",
    (EncounterKind.HOME_VISIT.value, None): "home_visits",
    (EncounterKind.CONSULTATION.value, None): "consultations",
}
FIELDS = [
    "cadres_total",
    "cadres_active",
    "cadres_retired",
    *TIER_FIELDS,
    "invited",
    "examined",
    "classified_total",
    *CLASS_FIELDS,
    *ACTIVITY_FIELDS.values(),
]
GROUPS: list[tuple[str, list[str]]] = [
    ("cadres_total", TIER_FIELDS),
    ("cadres_total", ["cadres_active", "cadres_retired"]),
    ("classified_total", CLASS_FIELDS),
]

Cells = dict[str, dict[str, list[int]]]  # province -> field -> [value, cadres]


def _add(cells: Cells, province: str, field: str, value: int, cadres: int) -> None:
    cell = cells[province].setdefault(field, [0, 0])
    cell[0] += value
    cell[1] += cadres


async def _count(session: AsyncSession, principal: Principal, start: date, end: date, basis: UnitBasis) -> Cells:
    """Every field's value per province, with the distinct cadres it rests on (what suppression looks at)."""
    cells: Cells = defaultdict(dict)
    for province, tier, status, _measure, n in await session.execute(queries.cadres(principal, end, basis)):
        for field in ("cadres_total", f"cadres_{status}", f"cadres_{tier}"):
            _add(cells, province, field, n, n)
    provinces = sorted(str(p) for p in (await session.execute(queries.provinces_in(start, end, basis))).scalars() if p)
    for province, invited, invited_cadres, done, done_cadres in await session.execute(
        queries.invitations(principal, start, end, basis, provinces)
    ):
        _add(cells, province, "invited", invited, invited_cadres)
        _add(cells, province, "examined", int(done or 0), done_cadres)
    for province, code, n in await session.execute(queries.classifications(principal, start, end, basis)):
        _add(cells, province, "classified_total", n, n)
        _add(cells, province, f"class_{code}", n, n)
    for province, kind, referral, n, cadres in await session.execute(queries.activity(principal, start, end, basis, provinces)):
        activity_field = ACTIVITY_FIELDS.get((kind, referral if kind == EncounterKind.REFERRAL.value else None))
        if activity_field is not None:
            _add(cells, province, activity_field, n, cadres)
    return cells


def suppressed_table(cells: Cells, min_cell_size: int) -> dict[tuple[str, str], Cell]:
    """Every province's cells and the nation's (their sums) in one table, suppressed together: each
    province's row totals, and each field's national total over the provinces, are relations, so a
    hidden province cell cannot be recovered from the national figure either."""
    raw: dict[tuple[str, str], RawCell] = {}
    national: Cells = defaultdict(dict)
    for province, fields in cells.items():
        for f in FIELDS:
            raw[province, f] = RawCell(*fields.get(f, [0, 0]))
            _add(national, NATION, f, raw[province, f].value, raw[province, f].cadres)
    for f in FIELDS:
        raw[NATION, f] = RawCell(*national[NATION].get(f, [0, 0]))
    groups: list[tuple[tuple[str, str], list[tuple[str, str]]]] = [
        ((row, total), [(row, part) for part in parts]) for row in [*cells, NATION] for total, parts in GROUPS
    ]
    groups += [((NATION, f), [(province, f) for province in cells]) for f in FIELDS]
    return suppress(raw, groups, min_cell_size)


async def rollup(
    session: AsyncSession, principal: Principal, start: date, end: date, basis: UnitBasis, min_cell_size: int
) -> NationalRollup:
    check_period(start, end)
    await for_analysis(session)
    cells = await _count(session, principal, start, end, basis)
    names = {u.path: u.name for u in (await session.execute(queries.units_named(list(cells)))).scalars()}
    if basis is UnitBasis.AS_THEN:  # provinces named as they stood at the period's end
        names.update({path: name for path, name in await session.execute(queries.versions_begun_by(list(cells), end))})
    shown = suppressed_table(cells, min_cell_size)
    provinces = [
        ProvinceAggregate(province=p, name=names.get(p, p), cells={f: shown[p, f] for f in FIELDS}) for p in sorted(cells)
    ]
    has_data = bool(cells)
    return NationalRollup(
        period_start=start,
        period_end=end,
        basis=basis,
        min_cell_size=min_cell_size,
        generated_at=clock.now(),
        has_data=has_data,
        message=None if has_data else NO_DATA,
        fields=FIELDS,
        provinces=provinces,
        national=ProvinceAggregate(province=NATION, name="Toàn quốc", cells={f: shown[NATION, f] for f in FIELDS}),
    )
