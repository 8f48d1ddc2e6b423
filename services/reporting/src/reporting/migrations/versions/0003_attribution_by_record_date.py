"""attribution by the record's own date: today's unit on every dated row, every version of a unit

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 21:10:00

Rows already stored get today's unit = their unit (no reorganisation followed): `python -m reporting.rebuild`
recomputes every attribution from the event history.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATED = {
    "cadreinterval": ("ix_cadreinterval_today_province_from", "valid_from"),
    "invitationfact": ("ix_invitationfact_today_province_date", "appointment_date"),
    "clinicalfact": ("ix_clinicalfact_today_province_occurred", "occurred_on"),
    "diagnosisfact": ("ix_diagnosisfact_today_province_occurred", "occurred_on"),
    "convalescenceregistrationfact": (None, None),
}


def upgrade() -> None:
    op.create_table(
        "unitversion",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("parent_path", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint("path", "valid_from"),
    )
    with op.batch_alter_table("unitversion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unitversion_parent_path"), ["parent_path"], unique=False)
    op.execute(
        "INSERT INTO unitversion (path, code, name, level, parent_path, valid_from, valid_to) "
        "SELECT path, code, name, level, parent_path, valid_from, valid_to FROM unitfact"
    )
    for table, (index, day) in DATED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("today_unit", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
            batch_op.add_column(sa.Column("today_province", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
            if index is not None:
                batch_op.create_index(index, ["today_province", day], unique=False)
            else:
                batch_op.create_index("ix_convalescenceregistrationfact_cadre", ["cadre_id"], unique=False)
        op.execute(f"UPDATE {table} SET today_unit = managing_unit, today_province = province")  # noqa: S608 (fixed names)


def downgrade() -> None:
    for table, (index, _day) in DATED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index or "ix_convalescenceregistrationfact_cadre")
            batch_op.drop_column("today_province")
            batch_op.drop_column("today_unit")
    with op.batch_alter_table("unitversion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unitversion_parent_path"))
    op.drop_table("unitversion")
