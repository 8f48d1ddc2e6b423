"""Schema steps of the runtime's own tables (tables.py), called from each service's migrations.

The kit tables live in every service's database, so every service's Alembic history carries the
same step; it is written once here and each service's revision calls it.
"""

import sqlalchemy as sa
from alembic import op


def add_broker_identity() -> None:
    """Consumer positions and the relay remember which broker log (cluster id) they refer to."""
    with op.batch_alter_table("consumer_positions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cluster_id", sa.String(length=200), nullable=True))
    op.create_table(
        "relay_state",
        sa.Column("relay", sa.String(length=100), nullable=False),
        sa.Column("cluster_id", sa.String(length=200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("relay"),
    )


def drop_broker_identity() -> None:
    op.drop_table("relay_state")
    with op.batch_alter_table("consumer_positions", schema=None) as batch_op:
        batch_op.drop_column("cluster_id")


def add_idempotency_keys() -> None:
    """The answers stored for Idempotency-Keys, for every service's POST routes."""
    op.create_table(
        "idempotency_keys",
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", "key"),
    )


def drop_idempotency_keys() -> None:
    op.drop_table("idempotency_keys")
