"""report approvals: submissions, steps, the board's words, locked periods and late records

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "reportapproval",
        sa.Column("approval_id", sa.Uuid(), nullable=False),
        sa.Column("board_unit", _text(100), nullable=False),
        sa.Column("kind", _text(20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("state", _text(20), nullable=False),
        sa.Column("words", _text(), nullable=False),
        sa.Column("created_by", _text(200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("submitted_by", _text(200), nullable=True),
        sa.Column("first_submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("report_id", sa.Uuid(), nullable=True),
        sa.Column("locked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reissued_report_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("approval_id"),
        sa.UniqueConstraint("board_unit", "kind", "period_start", "period_end", name="uq_reportapproval_period"),
    )
    with op.batch_alter_table("reportapproval", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reportapproval_board_unit"), ["board_unit"], unique=False)
        batch_op.create_index("ix_reportapproval_locked", ["locked_at"], unique=False)
    op.create_table(
        "reportapprovalstep",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Uuid(), nullable=False),
        sa.Column("action", _text(20), nullable=False),
        sa.Column("from_state", _text(20), nullable=True),
        sa.Column("to_state", _text(20), nullable=False),
        sa.Column("actor", _text(200), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("comment", _text(), nullable=True),
        sa.Column("report_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reportapprovalstep", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reportapprovalstep_approval_id"), ["approval_id"], unique=False)
    op.create_table(
        "laterecord",
        sa.Column("approval_id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("record_kind", _text(30), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("managing_unit", _text(100), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("approval_id", "record_id"),
    )


def downgrade() -> None:
    op.drop_table("laterecord")
    with op.batch_alter_table("reportapprovalstep", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reportapprovalstep_approval_id"))
    op.drop_table("reportapprovalstep")
    with op.batch_alter_table("reportapproval", schema=None) as batch_op:
        batch_op.drop_index("ix_reportapproval_locked")
        batch_op.drop_index(batch_op.f("ix_reportapproval_board_unit"))
    op.drop_table("reportapproval")
