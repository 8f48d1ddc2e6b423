"""the figures' recount a rebuild asks for, kept until it is done

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 09:10:00

A rebuild replays the facts alone and counts the figures' pre-aggregates from them once at its end; the row of
`figurerecount` says that count is still owed (`reporting.tables.FigureRecount`), so a rebuild stopped half-way
is finished by the service's next start instead of leaving figures the projections would then keep wrong.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "figurerecount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("figurerecount")
