"""unit: coordinates (the national load carries them; a map places units), and the indexes the national tree
needs: prefix scans of unit paths on PostgreSQL, successor look-ups by new path, and which successor of a
split unit is the default one

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
    op.create_index(
        "ix_unit_path_prefix", "unit", ["path", "valid_from"], unique=False, postgresql_ops={"path": "varchar_pattern_ops"}
    )
    with op.batch_alter_table("unit_succession") as batch:
        batch.add_column(sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_unit_succession_new_path", "unit_succession", ["new_path"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_unit_succession_new_path", table_name="unit_succession")
    with op.batch_alter_table("unit_succession") as batch:
        batch.drop_column("is_default")
    op.drop_index("ix_unit_path_prefix", table_name="unit")
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
