"""Alembic per service, the same migrations on SQLite and PostgreSQL.

Each service keeps `migrations/` inside its package; its env.py calls `run_env(metadata)`.
`upgrade(package, url)` and `check(package, url)` drive it programmatically (launcher, tests).
"""

import asyncio
import concurrent.futures
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit.db import is_sqlite, sqlite_file


def alembic_config(package: str, url: str) -> Config:
    script_location = Path(str(resources.files(package) / "migrations"))
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["url"] = url
    return config


def upgrade(package: str, url: str, revision: str = "head") -> None:
    if is_sqlite(url):
        Path(sqlite_file(url)).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(package, url), revision)


def check(package: str, url: str) -> None:
    """Raises if the models differ from what the migrations build."""
    command.check(alembic_config(package, url))


def run_env(context: EnvironmentContext, metadata: MetaData) -> None:
    """The body of every service's migrations/env.py (async engine, batch mode on SQLite)."""
    url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
    assert url, "no database URL given to the migrations"

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=is_sqlite(url))
        with context.begin_transaction():
            context.run_migrations()
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_async())
        return
    # Called from async code (tests, an app's start-up): migrate on a thread with a loop of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(asyncio.run, run_async()).result()


def autogenerate(package: str, message: str) -> None:
    """Write a new migration from the difference between the models and head (on a scratch SQLite file)."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/scratch.db"
        upgrade(package, url)
        command.revision(alembic_config(package, url), message=message, autogenerate=True)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m servicekit.migrations")
    parser.add_argument("package", help="service package, e.g. registry")
    parser.add_argument("command", choices=["upgrade", "check", "revision"])
    parser.add_argument("--url", help="database URL (upgrade, check)")
    parser.add_argument("-m", "--message", default="change", help="revision message")
    args = parser.parse_args(argv)
    if args.command == "revision":
        autogenerate(args.package, args.message)
    elif args.command == "upgrade":
        upgrade(args.package, args.url)
    else:
        check(args.package, args.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
