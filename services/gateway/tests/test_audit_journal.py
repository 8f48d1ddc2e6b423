"""No audit, no answer, with the audit journal: an unwritable journal (or, in commit mode, an unwritable
database) refuses the request without its data; a crashed process's journaled records are chained once."""

import os
import uuid
from pathlib import Path

import pytest
from gateway_harness import InProcessPlatform, PlatformFactory, user
from sqlalchemy import text

from contracts import roles
from contracts.scope import PrincipalKind
from devstack.demo import demo_units
from gateway.audit.journal import AuditJournal
from gateway.audit.trail import AuditEntry, AuditTrail, AuditUnavailable
from gateway.identity import PrincipalsFile
from servicekit import migrations
from servicekit.db import Database

API = "/api/v1"
NAME = "Phạm Thị Nhật Ký"


def principals() -> PrincipalsFile:
    return PrincipalsFile(users=[user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS)])


def entry(n: int) -> AuditEntry:
    return AuditEntry(
        actor="user:admin",
        actor_kind="admin",
        operation=f"registry:GET /cadres/{n}",
        method="GET",
        path=f"/registry/cadres/{n}",
        outcome="success",
        status_code=200,
        subjects=[str(uuid.uuid4())],
    )


async def _platform_with_a_cadre(make_platform: PlatformFactory, **options: str) -> tuple[InProcessPlatform, dict[str, str], str]:
    platform = await make_platform(principals(), **options)
    admin = await platform.headers("admin")
    assert (await platform.http.post(f"{API}/registry/units/import", json=demo_units(), headers=admin)).status_code == 200
    cadre = {
        "full_name": NAME,
        "date_of_birth": "1958-03-02",
        "sex": "female",
        "national_id": "068158123456",
        "tier": "provincial_2",
        "managing_unit": "VN.68",
        "status": "retired",
    }
    created = await platform.http.post(f"{API}/registry/cadres", json=cadre, headers=admin)
    assert created.status_code == 201, created.text
    return platform, admin, created.json()["id"]


async def test_an_unwritable_journal_refuses_the_read_without_its_data(make_platform: PlatformFactory) -> None:
    platform, admin, cadre_id = await _platform_with_a_cadre(make_platform)
    http = platform.http
    read = await http.get(f"{API}/registry/cadres/{cadre_id}", headers=admin)
    assert read.status_code == 200 and NAME in read.text

    journal = platform.gateway.audit.journal
    assert journal is not None and journal.size > 0  # the default mode: records go through the journal
    os.close(journal.fd)
    journal.fd = os.open(os.devnull, os.O_RDONLY)  # writes now fail (EBADF), as on a full or lost disk
    refused = await http.get(f"{API}/registry/cadres/{cadre_id}", headers=admin)
    assert refused.status_code == 503 and refused.json()["code"] == "audit_unavailable"
    assert NAME not in refused.text
    listed = await http.get(f"{API}/registry/cadres", params={"q": "Nhật Ký"}, headers=admin)
    assert listed.status_code == 503 and NAME not in listed.text


async def test_in_commit_mode_an_unwritable_database_refuses_the_read(make_platform: PlatformFactory) -> None:
    platform, admin, cadre_id = await _platform_with_a_cadre(make_platform, audit_durability="commit")
    http = platform.http
    assert platform.gateway.audit.journal is None
    async with platform.gateway.runtime.db.transaction() as session:
        await session.execute(text("ALTER TABLE audit_subjects RENAME TO audit_subjects_gone"))
    refused = await http.get(f"{API}/registry/cadres/{cadre_id}", headers=admin)
    assert refused.status_code == 503 and NAME not in refused.text


async def test_journaled_records_of_a_crashed_process_are_chained_once(tmp_path: Path, database_url: str) -> None:
    migrations.upgrade("gateway", database_url)
    db = Database(database_url)
    directory = tmp_path / "journal"
    try:
        first = AuditTrail(db, retention_days=30, journal=AuditJournal(directory))
        for n in range(3):
            await first.append(entry(n))
        await first.settled()
        async with first._lock:  # the database stalls: the next records are journaled, not chained ...
            for n in range(3, 5):
                await first.append(entry(n))
            assert first._writer is not None
            first._writer.cancel()  # ... and the process dies
        assert first.journal is not None
        os.write(first.journal.fd, b'{"entry_id": "torn')  # its last write was cut short
        os.close(first.journal.fd)
        async with db.transaction() as session:
            assert await session.scalar(text("SELECT count(*) FROM audit_records")) == 3

        second = AuditTrail(db, retention_days=30, journal=AuditJournal(directory))
        assert await second.recover() == 2  # the three already chained are skipped
        assert await second.recover() == 0
        assert [p.name for p in directory.iterdir()] == [second.journal.path.name]  # type: ignore[union-attr]
        checked = await second.verify()
        assert checked.valid and checked.records_checked == 5
        async with db.transaction() as session:
            operations = list(await session.scalars(text("SELECT operation FROM audit_records ORDER BY seq")))
        assert operations == [f"registry:GET /cadres/{n}" for n in range(5)]
        await second.close()
        assert list(directory.iterdir()) == []  # everything chained: the segment is dropped
    finally:
        await db.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_backlog_the_database_cannot_take_refuses_new_records(tmp_path: Path, database_url: str) -> None:
    migrations.upgrade("gateway", database_url)
    db = Database(database_url)
    try:
        trail = AuditTrail(db, retention_days=30, journal=AuditJournal(tmp_path / "journal"), max_backlog=2)
        async with trail._lock:
            await trail.append(entry(1))  # the writer waits for the database ...
            await trail.append(entry(2))
            with pytest.raises(AuditUnavailable):  # ... and a third record would exceed the backlog
                await trail.append(entry(3))
        await trail.settled()
        assert (await trail.verify()).records_checked == 2
        await trail.close()
    finally:
        await db.dispose()
