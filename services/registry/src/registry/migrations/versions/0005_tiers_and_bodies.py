"""tier_rule: which management tiers are allowed at which unit level, per province and period (seeded with the
national rules before and after 1 July 2025); managing_body: the boards a cadre's managing unit may name
besides the administrative units (a province's or commune's board, the defence and public-security boards,
the central board's regional councils)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 20:50:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ALWAYS = date(1900, 1, 1)
REFORM_2025 = date(2025, 7, 1)  # Resolution 202/2025/QH15: no district level from this day
# (tier, level, valid_from, valid_to): a copy of registry.domain.DEFAULT_TIER_RULES as it stood when this
# revision was written (a migration must not change when the code does)
SEED: list[tuple[str, str, date, date | None]] = [
    ("central", "nation", ALWAYS, None),
    ("central", "province", ALWAYS, None),
    ("provincial_1", "province", ALWAYS, None),
    ("provincial_2", "province", ALWAYS, None),
    ("provincial_3", "province", ALWAYS, None),
    ("treatment_only", "province", ALWAYS, None),
    ("district", "district", ALWAYS, REFORM_2025),
    ("treatment_only", "district", ALWAYS, REFORM_2025),
    ("district", "commune", ALWAYS, REFORM_2025),
    ("treatment_only", "commune", ALWAYS, None),
    ("commune", "commune", REFORM_2025, None),
]


def upgrade() -> None:
    rules = op.create_table(
        "tier_rule",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("province", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tier_rule_province", "tier_rule", ["province"], unique=False)
    op.bulk_insert(
        rules,
        [
            {
                "tier": tier,
                "level": level,
                "province": None,
                "valid_from": valid_from,
                "valid_to": valid_to,
                "reason": "national rules (Resolution 202/2025/QH15 from 2025-07-01)",
                "recorded_by": "system:migration",
                "recorded_at": datetime(2026, 11, 28, tzinfo=UTC),
            }
            for tier, level, valid_from, valid_to in SEED
        ],
    )
    op.create_table(
        "managing_body",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("successor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("path", "valid_from", name="uq_managing_body_path_valid_from"),
    )
    op.create_index("ix_managing_body_path", "managing_body", ["path"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_managing_body_path", table_name="managing_body")
    op.drop_table("managing_body")
    op.drop_index("ix_tier_rule_province", table_name="tier_rule")
    op.drop_table("tier_rule")
