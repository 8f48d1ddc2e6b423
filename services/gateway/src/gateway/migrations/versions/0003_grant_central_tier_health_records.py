"""grants: the central-tier health-records flag

A READ grant that includes the central tier opens central-tier cadres' health records only with this
flag (servicekit.scope.health_records_readable). Existing rows get false, except the grants in force on
the nation (`VN`) that read the central tier: those are the central board's and the administrators'
(contracts.roles gives both the flag), whose reads would otherwise stop at the upgrade, and only a
holder of the flag may hand it out. Every other grant needs an administrator to set it anew.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:10:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRANTS = sa.table(
    "grants",
    sa.column("id", sa.Uuid()),
    sa.column("unit_path", sa.String()),
    sa.column("tiers", sa.JSON()),
    sa.column("actions", sa.JSON()),
    sa.column("revoked_at", sa.DateTime()),
    sa.column("central_tier_health_records", sa.Boolean()),
)


def _listed(value: object) -> list[str]:
    """A JSON column as a list, whether the driver parsed it or handed back its text."""
    parsed = json.loads(value) if isinstance(value, str | bytes) else value
    return [str(item) for item in parsed] if isinstance(parsed, list) else []


def upgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("central_tier_health_records", sa.Boolean(), server_default=sa.false(), nullable=False))
    connection = op.get_bind()
    nation_grants = connection.execute(
        sa.select(GRANTS.c.id, GRANTS.c.tiers, GRANTS.c.actions).where(GRANTS.c.unit_path == "VN", GRANTS.c.revoked_at.is_(None))
    ).all()
    central_board = [row.id for row in nation_grants if "central" in _listed(row.tiers) and "read" in _listed(row.actions)]
    if central_board:
        connection.execute(sa.update(GRANTS).where(GRANTS.c.id.in_(central_board)).values(central_tier_health_records=True))


def downgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_column("central_tier_health_records")
