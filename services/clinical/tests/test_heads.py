"""clinical.heads.load_heads: the facility's records by external id, on SQLite and PostgreSQL; on PostgreSQL
one index probe per id even on a table whose statistics say nothing yet (a new deployment's first minute)."""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import text

from clinical import heads
from clinical.heads import Head
from contracts.api.clinical import RecordStatus
from servicekit import migrations
from servicekit.db import Database


def head(facility: str, external_id: str) -> Head:
    now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    return Head(
        id=uuid.uuid4(),
        facility=facility,
        external_id=external_id,
        kind="periodic_exam",
        cadre_id=uuid.uuid4(),
        managing_unit="VN.68",
        tier="provincial",
        version=1,
        status=RecordStatus.CURRENT.value,
        occurred_on=date(2026, 11, 2),
        ended_on=None,
        body={"kind": "periodic_exam"},
        body_hash=f"hash-{external_id}",
        withdrawn_reason=None,
        recorded_at=now,
        updated_at=now,
        new=True,
        body_json='{"kind":"periodic_exam"}',
    )


async def test_the_facilitys_records_are_found_by_external_id_and_no_other_facilitys(database_url: str) -> None:
    migrations.upgrade("clinical", database_url)
    db = Database(database_url)
    ours = [head("68-BVDK", f"KSK-{n}") for n in range(3)]
    theirs = head("79-BVTN", "KSK-0")  # the same external id at another hospital is another record
    try:
        async with db.transaction() as session:
            await heads.write(session, [*ours, theirs], [])
        async with db.transaction() as session:
            found = await heads.load_heads(session, "68-BVDK", {"KSK-0", "KSK-2", "KSK-9"})
            assert await heads.load_heads(session, "68-BVDK", set()) == {}
    finally:
        await db.dispose()
    assert sorted(found) == ["KSK-0", "KSK-2"]
    assert found["KSK-0"].id == ours[0].id
    assert found["KSK-2"].id == ours[2].id
    assert found["KSK-2"].body == {"kind": "periodic_exam"}
    assert found["KSK-2"].occurred_on == date(2026, 11, 2)
    assert isinstance(found["KSK-2"].cadre_id, uuid.UUID)


async def test_on_postgresql_each_id_is_one_probe_of_the_key_on_a_table_never_analysed(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        return  # SQLite's planner probes the unique index per id of an IN list; there is no statistics trap
    migrations.upgrade("clinical", database_url)
    db = Database(database_url)
    fill = text(
        "INSERT INTO clinical_record (id, facility, external_id, kind, cadre_id, managing_unit, tier, version, status,"
        " occurred_on, body, body_hash, recorded_at, updated_at)"
        " SELECT gen_random_uuid(), '68-BVDK', 'KSK-' || n, 'periodic_exam', gen_random_uuid(), 'VN.68', 'provincial', 1,"
        " 'current', DATE '2026-11-02', '{}'::jsonb, 'h', now(), now() FROM generate_series(1, 20000) AS n"
    )
    asked = ["KSK-7", "KSK-19999", *(f"NEW-{n}" for n in range(30))]  # a group commit's worth: a join would hash
    params = {"facility": "68-BVDK", "external_ids": asked}
    try:
        async with db.transaction() as session:
            await session.execute(fill)  # one facility's 20,000 records, never analysed
        async with db.transaction() as session:
            plan = await session.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF) {heads.HEADS_BY_KEY_SQL}"), params)
            lines = [row[0] for row in plan]
            found = await heads.load_heads(session, "68-BVDK", params["external_ids"])
    finally:
        await db.dispose()
    shown = "\n".join(lines)
    assert "Index Cond: (((facility)::text = " in shown and "(external_id)::text = (wanted.external_id)::text" in shown, shown
    assert "Rows Removed by Filter" not in shown, shown
    assert sorted(found) == ["KSK-19999", "KSK-7"]
