"""coverage attributed on the appointment date: the registry's unit successions, to map onto today's units

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 21:20:00

Reorganisations recorded before this revision are not replayed into the new table: a unit mapped by one of
them counts under its old path on the `today` basis until its next reorganisation (a fresh platform has none).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rostersuccession",
        sa.Column("old_path", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("new_path", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("old_path", "new_path"),
    )


def downgrade() -> None:
    op.drop_table("rostersuccession")
