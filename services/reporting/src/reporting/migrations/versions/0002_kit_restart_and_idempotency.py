"""kit tables: consumer positions and the relay remember the broker log they refer to; Idempotency-Keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:45:00
"""

from collections.abc import Sequence

from servicekit.kit_migrations import add_broker_identity, add_idempotency_keys, drop_broker_identity, drop_idempotency_keys

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_broker_identity()
    add_idempotency_keys()


def downgrade() -> None:
    drop_idempotency_keys()
    drop_broker_identity()
