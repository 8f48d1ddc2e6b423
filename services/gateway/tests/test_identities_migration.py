"""Migration 0004 on a gateway database in use, and how the principals file and the database coexist, on SQLite
and PostgreSQL: the file seeds the database (at start-up and when the file changes) and never overwrites what
the database holds."""

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

from gateway_harness import PlatformFactory, cheap_hash, user
from identity_boards import API, boards, sign_in
from legacy_tables import GRANTS_BEFORE_0003

from contracts import roles
from contracts.scope import PrincipalKind
from gateway.domain import LockoutPolicy
from gateway.identities.store import IdentityStore
from gateway.identity import Directory, write_principals
from servicekit import migrations
from servicekit.db import Database


async def _existing_grant(url: str) -> None:
    db = Database(url)
    async with db.transaction() as session:
        await session.execute(
            GRANTS_BEFORE_0003.insert().values(
                id=uuid.uuid4(), subject="user:lamdong", unit_path="VN.68", tiers=["provincial_1"], actions=["read"],
                reason="initial grants from the principals file", granted_by="system:bootstrap", granted_at=datetime.now(UTC),
            )
        )  # fmt: skip
    await db.dispose()


async def _seed_and_sign_in(url: str, principals: Path) -> tuple[int, bool, bool]:
    db = Database(url)
    store = IdentityStore(db, Directory(principals), lockout=LockoutPolicy(5, 15))
    try:
        added = await store.follow_file()
        good = (await store.authenticate_user("lamdong", "lamdong-pw")).principal is not None
        bad = (await store.authenticate_user("lamdong", "wrong")).principal is not None
    finally:
        await db.dispose()
    return added, good, bad


def test_an_existing_database_is_upgraded_and_seeded_from_its_file(database_url: str, tmp_path: Path) -> None:
    migrations.upgrade("gateway", database_url, "0003")
    asyncio.run(_existing_grant(database_url))
    migrations.upgrade("gateway", database_url)
    migrations.check("gateway", database_url)
    principals = tmp_path / "principals.json"
    write_principals(principals, boards())
    added, good, bad = asyncio.run(_seed_and_sign_in(database_url, principals))
    assert (added, good, bad) == (len(boards().users) + len(boards().clients), True, False)
    assert asyncio.run(_seed_and_sign_in(database_url, principals))[0] == 0  # the same file again adds nobody


async def test_the_file_adds_principals_while_running_but_never_overwrites(
    make_platform: PlatformFactory, database_url: str
) -> None:
    platform = await make_platform(boards(), gateway_database_url=database_url, token_rate_per_minute=100_000)
    edited = boards()
    edited.users = [
        u.model_copy(update={"password_hash": cheap_hash("a-new-file-password")}) if u.username == "lamdong" else u
        for u in edited.users
    ] + [user("newcomer", PrincipalKind.STAFF, roles.district_board("VN.68.673"), roles.STAFF_PERMISSIONS)]
    await asyncio.sleep(1.1)  # the file is looked at once a second
    write_principals(platform.gateway.settings.principals_file, edited)
    assert await sign_in(platform, "newcomer", "newcomer-pw") == 200  # added without a restart, with its grants
    me = await platform.http.get(f"{API}/auth/me", headers={"authorization": f"Bearer {await platform.token('newcomer')}"})
    assert [g["unit_path"] for g in me.json()["grants"]] == ["VN.68.673"]
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 200  # the database's secret holds
    assert await sign_in(platform, "lamdong", "a-new-file-password") == 400
