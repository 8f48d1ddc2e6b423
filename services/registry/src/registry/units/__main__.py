"""`python -m registry.units load [--stage legacy|2025|all] [--province VN.68 ...] [--retier VN.68=provincial_3 ...]`:
the whole country's units into the registry's database (from its settings, as the service opens it), idempotently."""

import argparse
import asyncio
import json
import sys
from typing import get_args

from contracts.api.units import Retier, Stage
from registry.settings import RegistrySettings
from registry.tables import KIT
from registry.units.loading import load_national
from servicekit import migrations
from servicekit.db import Database
from servicekit.errors import Refused
from servicekit.outbox import Outbox


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m registry.units", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load", help="load the national units (63 provinces until 2025-06-30, 34 from 2025-07-01)")
    load.add_argument("--stage", choices=get_args(Stage), default="all")
    load.add_argument("--province", action="append", help="only this province of the 2025 map (repeatable), e.g. VN.68")
    load.add_argument("--retier", action="append", default=[], help="PROVINCE=provincial_3|commune for its district-tier cadres")
    return parser.parse_args(argv)


async def _load(arguments: argparse.Namespace) -> int:
    retier: dict[str, Retier] = {}
    for item in arguments.retier:
        province, _, choice = item.partition("=")
        if choice not in get_args(Retier):
            print(f"--retier {item!r}: expected PROVINCE=provincial_3 or PROVINCE=commune", file=sys.stderr)
            return 2
        retier[province] = choice  # type: ignore[assignment,unused-ignore]  # checked against Retier just above
    settings = RegistrySettings()
    migrations.upgrade("registry", settings.database_url)  # as the launcher does before a service opens it
    database = Database(settings.database_url)
    outbox = Outbox(KIT, source=f"cadrecare/{settings.service_name}")
    try:
        async with database.transaction() as session:
            result = await load_national(session, outbox, stage=arguments.stage, provinces=arguments.province, retier=retier)
    except Refused as refused:
        print(json.dumps({"detail": refused.detail, "errors": [e.model_dump() for e in refused.errors]}, ensure_ascii=False))
        return 1
    finally:
        await database.dispose()
    print(result.model_dump_json(indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(sys.argv[1:] if argv is None else argv)
    return asyncio.run(_load(arguments))


if __name__ == "__main__":
    raise SystemExit(main())
