"""`python -m reporting.rollup --database-url URL --start 2023-01-01 --end 2023-06-30 [--basis today]
[--min-cell-size 10] [--output rollup.json]` runs the same computation as the endpoint, as a job, with
the aggregation job's grant: every tier of the nation, aggregates only.
"""

import argparse
import asyncio
from datetime import date

from contracts.api.reporting import NationalRollup, UnitBasis
from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, Principal, PrincipalKind
from reporting.rollup.service import rollup
from reporting.settings import ReportingSettings
from servicekit.db import Database
from servicekit.scope import NATION

AGGREGATION_JOB = Principal(
    subject="job:national-rollup",
    kind=PrincipalKind.AGGREGATION_JOB,
    display_name="Tổng hợp toàn quốc",
    grants=(Grant(unit_path=NATION, tiers=frozenset(ManagementTier), actions=frozenset({Action.AGGREGATE})),),
)


async def run_job(database_url: str, start: date, end: date, basis: UnitBasis, min_cell_size: int) -> NationalRollup:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            return await rollup(session, AGGREGATION_JOB, start, end, basis, min_cell_size)
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
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
