"""Central aggregation: the national roll-up by province, de-identified, with small cells suppressed.

`python -m reporting.rollup --database-url URL --start 2023-01-01 --end 2023-06-30 [--basis today]
[--min-cell-size 10] [--output rollup.json]` runs the same computation as the endpoint, as a job.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.reporting import NationalRollup, ProvinceAggregate, UnitBasis
from contracts.enums import Action, EncounterKind, ManagementTier, ReferralKind
from contracts.scope import Grant, Principal, PrincipalKind
from reporting import queries
from reporting.domain import CLASSIFICATION_CODES, COUNTED_STATUSES, RawCell, suppress
from reporting.queries import Scope
from reporting.service import NO_DATA, check_period
from reporting.tables import CadreFact, CadreInterval, ClinicalFact, InvitationFact, UnitFact, UnitSuccessor
from servicekit.db import Database

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


async def _successors(session: AsyncSession) -> dict[str, str]:
    """Each reorganised-away unit's successor (the first by path where a unit was split)."""
    rows = (await session.execute(select(UnitSuccessor).order_by(col(UnitSuccessor.new_path)))).scalars()
    mapping: dict[str, str] = {}
    for row in rows:
        mapping.setdefault(row.old_path, row.new_path)
    return mapping


def _today_of(path: str, successors: dict[str, str]) -> str:
    seen = {path}
    while path in successors and successors[path] not in seen:
        path = successors[path]
        seen.add(path)
    return path


async def rollup(
    session: AsyncSession, principal: Principal, start: date, end: date, basis: UnitBasis, min_cell_size: int
) -> NationalRollup:
    check_period(start, end)
    scope = Scope(principal, "VN")
    today = basis is UnitBasis.TODAY
    cells: Cells = defaultdict(dict)

    def province_column(model: Any) -> Any:
        return col(CadreFact.province) if today else col(model.province)

    def joined(statement: Any, model: Any) -> Any:
        return statement.join(CadreFact, col(CadreFact.cadre_id) == col(model.cadre_id)) if today else statement

    interval = CadreInterval
    prov = province_column(interval)
    statement = joined(
        select(prov, col(interval.tier), col(interval.status), func.count()).where(
            scope.where(col(interval.managing_unit), col(interval.tier)),
            col(interval.valid_from) <= end,
            (col(interval.valid_to).is_(None)) | (col(interval.valid_to) > end),
            col(interval.status).in_(COUNTED_STATUSES),
        ),
        interval,
    ).group_by(prov, col(interval.tier), col(interval.status))
    for province, tier, status, n in await session.execute(statement):
        for field in ("cadres_total", f"cadres_{status}", f"cadres_{tier}"):
            _add(cells, province, field, n, n)

    invitation = InvitationFact
    prov = province_column(invitation)
    examined = (col(invitation.status) == "attended") | (col(invitation.exam_recorded).is_(True))
    statement = joined(
        select(
            prov,
            func.count(),
            func.count(distinct(col(invitation.cadre_id))),
            func.sum(case((examined, 1), else_=0)),
            func.count(distinct(case((examined, col(invitation.cadre_id)), else_=None))),
        ).where(
            scope.where(col(invitation.managing_unit), col(invitation.tier)),
            col(invitation.appointment_date) >= start,
            col(invitation.appointment_date) <= end,
            col(invitation.status) != "cancelled",
        ),
        invitation,
    ).group_by(prov)
    for province, invited, invited_cadres, done, done_cadres in await session.execute(statement):
        _add(cells, province, "invited", invited, invited_cadres)
        _add(cells, province, "examined", int(done or 0), done_cadres)

    record = ClinicalFact
    prov = province_column(record)
    statement = joined(
        select(prov, col(record.classification), func.count()).where(
            scope.where(col(record.managing_unit), col(record.tier)), *queries.latest_exam_conditions(start, end)
        ),
        record,
    ).group_by(prov, col(record.classification))
    for province, code, n in await session.execute(statement):
        _add(cells, province, "classified_total", n, n)
        _add(cells, province, f"class_{code}", n, n)

    statement = joined(
        select(prov, col(record.kind), col(record.referral_kind), func.count(), func.count(distinct(col(record.cadre_id)))).where(
            scope.where(col(record.managing_unit), col(record.tier)),
            col(record.withdrawn).is_(False),
            col(record.occurred_on) >= start,
            col(record.occurred_on) <= end,
        ),
        record,
    ).group_by(prov, col(record.kind), col(record.referral_kind))
    for province, kind, referral, n, cadres in await session.execute(statement):
        activity_field = ACTIVITY_FIELDS.get((kind, referral if kind == EncounterKind.REFERRAL.value else None))
        if activity_field is not None:
            _add(cells, province, activity_field, n, cadres)

    if today:
        successors = await _successors(session)
        merged: Cells = defaultdict(dict)
        for province, fields in cells.items():
            for field, (value, cadres) in fields.items():
                _add(merged, _today_of(province, successors), field, value, cadres)
        cells = merged

    names = {
        u.path: u.name for u in (await session.execute(select(UnitFact).where(col(UnitFact.path).in_(list(cells))))).scalars()
    }
    national: Cells = defaultdict(dict)
    provinces = []
    for province in sorted(cells):
        raw = {f: RawCell(*cells[province].get(f, [0, 0])) for f in FIELDS}
        for f, cell in raw.items():
            _add(national, "VN", f, cell.value, cell.cadres)
        provinces.append(
            ProvinceAggregate(province=province, name=names.get(province, province), cells=suppress(raw, GROUPS, min_cell_size))
        )
    national_raw = {f: RawCell(*national["VN"].get(f, [0, 0])) for f in FIELDS}
    has_data = bool(cells)
    return NationalRollup(
        period_start=start,
        period_end=end,
        basis=basis,
        min_cell_size=min_cell_size,
        generated_at=datetime.now(UTC),
        has_data=has_data,
        message=None if has_data else NO_DATA,
        fields=FIELDS,
        provinces=provinces,
        national=ProvinceAggregate(province="VN", name="Toàn quốc", cells=suppress(national_raw, GROUPS, min_cell_size)),
    )


AGGREGATION_JOB = Principal(
    subject="job:national-rollup",
    kind=PrincipalKind.AGGREGATION_JOB,
    display_name="Tổng hợp toàn quốc",
    grants=(Grant(unit_path="VN", tiers=frozenset(ManagementTier), actions=frozenset({Action.AGGREGATE})),),
)


async def run_job(database_url: str, start: date, end: date, basis: UnitBasis, min_cell_size: int) -> NationalRollup:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            return await rollup(session, AGGREGATION_JOB, start, end, basis, min_cell_size)
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    from reporting.settings import ReportingSettings

    parser = argparse.ArgumentParser(prog="python -m reporting.rollup", description="National roll-up by province.")
    parser.add_argument("--database-url", default=None, help="the reporting database (default: from REPORTING_* settings)")
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--basis", type=UnitBasis, choices=list(UnitBasis), default=UnitBasis.AS_THEN)
    parser.add_argument("--min-cell-size", type=int, default=None)
    parser.add_argument("--output", default="-", help="file to write the JSON to (default: standard output)")
    args = parser.parse_args(argv)
    settings = ReportingSettings()
    url = args.database_url or settings.database_url
    result = asyncio.run(run_job(url, args.start, args.end, args.basis, args.min_cell_size or settings.min_cell_size))
    text = result.model_dump_json(indent=2)
    if args.output == "-":
        print(text)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
