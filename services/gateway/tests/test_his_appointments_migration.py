"""Migration 0005 on a gateway database in use, on SQLite and PostgreSQL: HIS clients stored before the FHIR
Appointment interface gain its permission; other identities are left as they were."""

import asyncio
from datetime import UTC, datetime

import sqlalchemy as sa

from contracts.permissions import Permission
from servicekit import migrations
from servicekit.db import Database

IDENTITIES = sa.table(
    "identities",
    *(sa.column(name) for name in ("subject", "login", "name", "kind", "display_name", "unit_path", "secret_hash")),
    *(sa.column(name) for name in ("secret_changed_at", "source", "created_by", "created_at", "failed_signins")),
    sa.column("permissions", sa.JSON),
)


async def _stored(url: str, rows: list[tuple[str, str, list[str]]] | None = None) -> dict[str, list[str]]:
    db = Database(url)
    now = datetime.now(UTC)
    try:
        async with db.transaction() as session:
            for subject, kind, permissions in rows or []:
                await session.execute(
                    IDENTITIES.insert().values(
                        subject=subject, login="user" if kind != "his" else "client", name=subject.split(":")[1], kind=kind,
                        display_name=subject, unit_path="VN.68", secret_hash="-", secret_changed_at=now, source="file",
                        created_by="test", created_at=now, failed_signins=0, permissions=permissions,
                    )
                )  # fmt: skip
            result = await session.execute(sa.select(IDENTITIES.c.subject, IDENTITIES.c.permissions))
            return {subject: list(permissions) for subject, permissions in result.all()}
    finally:
        await db.dispose()


def test_stored_his_clients_gain_the_appointment_permission(database_url: str) -> None:
    migrations.upgrade("gateway", database_url, "0004")
    his = [Permission.CLINICAL_WRITE.value, Permission.CLINICAL_READ_OWN.value]
    staff = [Permission.SCHEDULING_READ.value]
    asyncio.run(_stored(database_url, [("client:bv-68", "his", his), ("user:lamdong", "staff", staff)]))
    migrations.upgrade("gateway", database_url)
    migrations.check("gateway", database_url)
    stored = asyncio.run(_stored(database_url))
    assert sorted(stored["client:bv-68"]) == sorted([*his, Permission.SCHEDULING_FACILITY_APPOINTMENTS.value])
    assert stored["user:lamdong"] == staff
