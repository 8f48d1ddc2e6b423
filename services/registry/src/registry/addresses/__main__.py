"""`python -m registry.addresses resolve [--unit VN.68] [--reread]`: every cadre's residence address read to today's
commune in the registry's database (from its settings, as the service opens it), e.g. after loading the national
units or a reorganisation; what does not resolve is left for the boards to settle (GET /addresses/unresolved)."""

import argparse
import asyncio
import sys

from contracts import roles
from contracts.api.addresses import AddressBulkResolve
from contracts.scope import Principal, PrincipalKind
from registry.addresses.service import resolve_all
from registry.settings import RegistrySettings
from registry.tables import KIT
from servicekit.db import Database
from servicekit.outbox import Outbox

SYSTEM = Principal(
    subject="system:addresses", kind=PrincipalKind.ADMIN, display_name="address reading", grants=roles.administrator()
)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m registry.addresses", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    resolve = commands.add_parser("resolve", help="read every residence address to today's commune")
    resolve.add_argument("--unit", help="only cadres managed under this unit, e.g. VN.68")
    resolve.add_argument("--reread", action="store_true", help="also cadres whose residence unit is a current unit")
    return parser.parse_args(argv)


async def _resolve(arguments: argparse.Namespace) -> int:
    settings = RegistrySettings()
    database = Database(settings.database_url)
    outbox = Outbox(KIT, source=f"cadrecare/{settings.service_name}")
    try:
        async with database.transaction() as session:
            result = await resolve_all(session, outbox, SYSTEM, AddressBulkResolve(unit=arguments.unit, reread=arguments.reread))
    finally:
        await database.dispose()
    print(result.model_dump_json(indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(_resolve(_arguments(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    raise SystemExit(main())
