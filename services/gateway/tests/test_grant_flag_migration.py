"""Migration 0003 on a gateway database that already holds grants: the central-tier health-records flag is
set only on the nation-wide grants in force that read the central tier (the central board's and the
administrators'), so that they keep their reads and can hand the flag out; every other grant starts
without it. On SQLite and PostgreSQL."""

import asyncio
import uuid
from datetime import UTC, datetime

from legacy_tables import GRANTS_BEFORE_0003
from sqlalchemy import Boolean, Uuid, column, select, table
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit import migrations

FLAGS = table("grants", column("id", Uuid()), column("central_tier_health_records", Boolean()))
NOW = datetime(2026, 11, 1, tzinfo=UTC)
ROWS = {  # name -> (unit_path, tiers, actions, revoked)
    "central board": ("VN", ["central"], ["read", "write"], False),
    "administrator": ("VN", ["central", "district", "provincial_1"], ["aggregate", "read", "write"], False),
    "aggregation job": ("VN", ["central", "district"], ["aggregate"], False),
    "revoked central": ("VN", ["central"], ["read"], True),
    "provincial board": ("VN.68", ["central", "provincial_1"], ["read", "write"], False),
}


async def _insert_without_flag(url: str, ids: dict[str, uuid.UUID]) -> None:
    """Rows as a gateway before 0003 wrote them."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        for name, (unit_path, tiers, actions, revoked) in ROWS.items():
            await connection.execute(
                GRANTS_BEFORE_0003.insert().values(
                    id=ids[name],
                    subject=f"user:{name}",
                    unit_path=unit_path,
                    tiers=tiers,
                    actions=actions,
                    reason="",
                    granted_by="system:bootstrap",
                    granted_at=NOW,
                    revoked_at=NOW if revoked else None,
                )
            )
    await engine.dispose()


async def _flags(url: str) -> dict[uuid.UUID, bool]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        rows = (await connection.execute(select(FLAGS.c.id, FLAGS.c.central_tier_health_records))).all()
    await engine.dispose()
    return {row.id: row.central_tier_health_records for row in rows}


def test_the_flag_is_set_only_on_the_nation_wide_central_tier_readers(database_url: str) -> None:
    migrations.upgrade("gateway", database_url, "0002")
    ids = {name: uuid.uuid4() for name in ROWS}
    asyncio.run(_insert_without_flag(database_url, ids))
    migrations.upgrade("gateway", database_url)
    flags = asyncio.run(_flags(database_url))
    assert {name for name, grant_id in ids.items() if flags[grant_id]} == {"central board", "administrator"}
    migrations.check("gateway", database_url)
