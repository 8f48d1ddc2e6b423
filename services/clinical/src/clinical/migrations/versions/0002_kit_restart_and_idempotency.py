"""kit tables: consumer positions and the relay remember the broker log they refer to; Idempotency-Keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from servicekit.kit_migrations import add_broker_identity, add_idempotency_keys, drop_broker_identity, drop_idempotency_keys

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_broker_identity()
    add_idempotency_keys()
    op.drop_table("idempotent_request")  # clinical's own answers: the kit's table holds them now


def downgrade() -> None:
    op.create_table(
        "idempotent_request",
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", "key"),
    )
    drop_idempotency_keys()
    drop_broker_identity()
