"""cadre: the BHYT (health-insurance) card number and its validity

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cadre") as batch:
        batch.add_column(sa.Column("bhyt_number", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True))
        batch.add_column(sa.Column("bhyt_valid_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("bhyt_valid_to", sa.Date(), nullable=True))
    op.create_index("ix_cadre_bhyt_number", "cadre", ["bhyt_number"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cadre_bhyt_number", table_name="cadre")
    with op.batch_alter_table("cadre") as batch:
        batch.drop_column("bhyt_valid_to")
        batch.drop_column("bhyt_valid_from")
        batch.drop_column("bhyt_number")
