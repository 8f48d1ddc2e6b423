"""The registry's settings: on SQLite its writers (requests, the outbox relay, list imports) take turns on one lock."""

from pathlib import Path

from registry.settings import RegistrySettings
from servicekit.db import Database


async def test_on_sqlite_the_registry_queues_its_writers_and_on_postgresql_nothing_changes(tmp_path: Path) -> None:
    settings = RegistrySettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
    sqlite = Database(settings.database_url, one_writer=settings.sqlite_one_writer)
    postgresql = Database("postgresql+asyncpg://postgres@127.0.0.1:1/x", one_writer=settings.sqlite_one_writer)
    assert sqlite.writer is not None and postgresql.writer is None
    await sqlite.dispose()
    await postgresql.dispose()
