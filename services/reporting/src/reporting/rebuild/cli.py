"""`python -m reporting.rebuild [--database-url URL] [--bootstrap HOST:PORT] [--timeout SECONDS]`: migrate the
database, empty the read models, replay the topics, print what was replayed (see `reporting.rebuild`)."""

import argparse
import asyncio

from contracts.api.reporting import RebuildResult
from reporting.rebuild.service import rebuild
from reporting.settings import ReportingSettings
from servicekit import migrations
from servicekit.app import settle_garbage_collector
from servicekit.broker import Broker
from servicekit.db import Database

DESCRIPTION = "Rebuild: empty the read models and replay every topic reporting consumes from offset 0."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reporting.rebuild",
        description="Rebuild: empty the read models and replay every topic reporting consumes from offset 0.",
    )
    parser.add_argument("--database-url", default=None, help="default: REPORTING_DATABASE_URL / the settings' default")
    parser.add_argument("--bootstrap", default=None, help="Kafka bootstrap servers; default: REPORTING_KAFKA_BOOTSTRAP")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    settings = ReportingSettings()
    url = args.database_url or settings.database_url
    migrations.upgrade("reporting", url)

    async def run() -> RebuildResult:
        settle_garbage_collector()  # as a service does once started: full collections then skip the modules loaded
        db = Database(url)
        broker = Broker(args.bootstrap or settings.kafka_bootstrap, client_id="cadrecare-reporting-rebuild")
        try:
            return await rebuild(db, broker, timeout=args.timeout)
        finally:
            await broker.close()
            await db.dispose()

    print(asyncio.run(run()).model_dump_json())
    return 0
