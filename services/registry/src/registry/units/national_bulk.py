"""The national move's writes on PostgreSQL, set-based: the plan (one row per moved cadre) is copied once into a
temporary table, and each of the cadres, their periods, their history lines and their events is then one statement
joining it. Hundreds of thousands of cadres move at once; row-by-row parameters cost more Python time building
them than PostgreSQL spends applying them, and one statement per 10,000 cadres means dozens of round trips each.

The rules are those of registry.history (move_periods, change_rows) and national_events, as SQL:
- the cadre row gets its new unit and tier;
- the period holding on the reform date is split there (the part from it on gets the new unit, and the new tier if
  the cadre was re-tiered); periods starting later get the new unit (and tier, if re-tiered);
- one history line for the unit and one for the tier (if it changed), in the cadre's order;
- the events: national_events.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping, Select, column, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from registry.domain import Operation
from registry.tables import Cadre, CadreChange, CadrePeriod
from servicekit.sql import table_of

MOVES = "national_move"  # the temporary table, dropped at commit
# the moved cadre: its order in the plan, its id, and its unit and tier before and after
MOVE_COLUMNS = ("ordinal", "id", "old_unit", "old_tier", "unit", "tier")


async def copy_moves(
    session: AsyncSession, cadres: Sequence[RowMapping], units: Mapping[uuid.UUID, str], tiers: Mapping[uuid.UUID, str]
) -> None:
    """The plan into the temporary table by COPY (binary, one round trip per batch asyncpg chooses)."""
    await session.execute(text(f"DROP TABLE IF EXISTS pg_temp.{MOVES}"))  # a second move in one transaction starts afresh
    await session.execute(
        text(
            f"CREATE TEMPORARY TABLE {MOVES} (ordinal integer NOT NULL, id uuid PRIMARY KEY, old_unit text NOT NULL,"
            " old_tier text NOT NULL, unit text NOT NULL, tier text NOT NULL) ON COMMIT DROP"
        )
    )
    records = [
        (ordinal, c["id"], c["managing_unit"], c["tier"], units[c["id"]], tiers[c["id"]])
        for ordinal, c in enumerate(cadres)
        if c["id"] in units
    ]
    raw = await (await session.connection()).get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(MOVES, records=records, columns=list(MOVE_COLUMNS))
    await session.execute(text(f"ANALYZE {MOVES}"))  # the joins below are planned on its real size


def retiered_ids() -> Select[tuple[Any]]:
    """The ids of the cadres of the plan whose tier changes."""
    return select(column("id")).select_from(table(MOVES)).where(column("tier") != column("old_tier"))


async def move_cadres(session: AsyncSession, now: datetime) -> None:
    await session.execute(
        text(
            f"UPDATE {table_of(Cadre).name} AS c SET managing_unit = m.unit, tier = m.tier, updated_at = :now"
            f" FROM {MOVES} AS m WHERE c.id = m.id"
        ),
        {"now": now},
    )


# the tier a period takes from the reform on: the new one if the cadre was re-tiered, else the period's own
_PERIOD_TIER = "CASE WHEN m.tier <> m.old_tier THEN m.tier ELSE p.tier END"


async def move_periods(session: AsyncSession, effective: date) -> None:
    """Later periods first (the split parts inserted next start on `effective` and already carry the move)."""
    periods = table_of(CadrePeriod).name
    params = {"effective": effective}
    await session.execute(
        text(
            f"UPDATE {periods} AS p SET managing_unit = m.unit, tier = {_PERIOD_TIER} FROM {MOVES} AS m"
            " WHERE p.cadre_id = m.id AND p.valid_from >= :effective"
        ),
        params,
    )
    held = "p.cadre_id = m.id AND p.valid_from < :effective AND (p.valid_to IS NULL OR p.valid_to > :effective)"
    await session.execute(
        text(
            f"INSERT INTO {periods} (cadre_id, valid_from, valid_to, tier, status, managing_unit)"
            f" SELECT p.cadre_id, :effective, p.valid_to, {_PERIOD_TIER}, p.status, m.unit"
            f" FROM {periods} AS p JOIN {MOVES} AS m ON {held} ORDER BY m.ordinal"
        ),
        params,
    )
    await session.execute(
        text(f"UPDATE {periods} AS p SET valid_to = :effective FROM {MOVES} AS m WHERE {held}"),
        params,
    )


async def record_changes(session: AsyncSession, actor: str, effective: date, reason: str, now: datetime) -> None:
    """The unit's line, then the tier's where it changed, cadre by cadre (history.change_rows' order)."""
    await session.execute(
        text(
            f"INSERT INTO {table_of(CadreChange).name} (cadre_id, changed_at, changed_by, operation, field, old_value,"
            " new_value, effective_date, reason)"
            " SELECT m.id, :now, :actor, :operation, f.name, f.old, f.new, :effective, :reason"
            f" FROM {MOVES} AS m CROSS JOIN LATERAL (VALUES (1, 'managing_unit', m.old_unit, m.unit),"
            " (2, 'tier', m.old_tier, m.tier)) AS f(position, name, old, new)"
            " WHERE f.position = 1 OR m.tier <> m.old_tier ORDER BY m.ordinal, f.position"
        ),
        {"now": now, "actor": actor, "operation": Operation.REORGANISE.value, "effective": effective, "reason": reason},
    )
