"""convalescence trips: how many cadres the rule made eligible when the trip was published

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("convalescencetripfact", sa.Column("eligible", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("convalescencetripfact") as batch:
        batch.drop_column("eligible")
