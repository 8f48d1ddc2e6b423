"""identities: the users and HIS clients that may sign in, administered by the boards

Until now they came only from the principals file on the gateway's host. The file stays the seed: the
gateway adds its principals to this table at start-up (and when the file changes), so an existing
installation needs no data step here; its users keep their hashed secrets and the grants already in
`grants`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("login", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("unit_path", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("facility", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("secret_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("disabled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("disabled_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("disable_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("failed_signins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("subject"),
    )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identities_unit_path"), ["unit_path"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identities_unit_path"))
    op.drop_table("identities")
