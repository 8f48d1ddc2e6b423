"""pre-aggregates kept by the projections for national figures

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 23:45:00

Records and appointments counted per unit (as then and today), tier and month (`reporting.preaggregates`),
filled here from the facts already stored; the projections keep them from then on. And the live classified
exams indexed by date (a partial index): the national classification reads each cadre's latest from it alone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _attributed() -> list[sa.Column[str]]:
    return [
        sa.Column("province", _text(100), nullable=False),
        sa.Column("month", _text(7), nullable=False),
        sa.Column("managing_unit", _text(100), nullable=False),
        sa.Column("tier", _text(30), nullable=False),
    ]


def _today() -> list[sa.Column[str]]:
    return [sa.Column("today_unit", _text(100), nullable=False), sa.Column("today_province", _text(100), nullable=False)]


EXAM_COLUMNS = (
    *("occurred_on", "cadre_id", "record_id", "classification", "tier"),
    *("managing_unit", "province", "today_unit", "today_province"),
)
FILL_RECORDS = """
INSERT INTO recordmonthcount (province, month, managing_unit, tier, kind, referral_kind, today_unit, today_province, records)
SELECT province, month, managing_unit, tier, kind, COALESCE(referral_kind, ''), COALESCE(today_unit, ''),
       COALESCE(today_province, ''), count(*)
FROM clinicalfact
WHERE NOT withdrawn AND managing_unit IS NOT NULL AND tier IS NOT NULL
GROUP BY province, month, managing_unit, tier, kind, COALESCE(referral_kind, ''), COALESCE(today_unit, ''),
         COALESCE(today_province, '')
"""
FILL_INVITATIONS = """
INSERT INTO invitationmonthcount (province, month, managing_unit, tier, cadre_status, plan_id, round_id, today_unit,
                                  today_province, invited, examined)
SELECT i.province, substr(CAST(i.appointment_date AS VARCHAR), 1, 7), i.managing_unit, i.tier,
       COALESCE(c.status, ''), i.plan_id, i.round_id, COALESCE(i.today_unit, ''), COALESCE(i.today_province, ''),
       count(*), sum(CASE WHEN i.status = 'attended' OR i.exam_recorded THEN 1 ELSE 0 END)
FROM invitationfact i
LEFT OUTER JOIN cadreinterval c ON c.cadre_id = i.cadre_id AND c.valid_from <= i.appointment_date
     AND (c.valid_to IS NULL OR c.valid_to > i.appointment_date)
WHERE i.status != 'cancelled' AND i.managing_unit IS NOT NULL
GROUP BY i.province, substr(CAST(i.appointment_date AS VARCHAR), 1, 7), i.managing_unit, i.tier,
         COALESCE(c.status, ''), i.plan_id, i.round_id, COALESCE(i.today_unit, ''), COALESCE(i.today_province, '')
"""


def upgrade() -> None:
    op.create_table(
        "recordmonthcount",
        *_attributed(),
        sa.Column("kind", _text(30), nullable=False),
        sa.Column("referral_kind", _text(20), nullable=False),
        *_today(),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "province", "month", "managing_unit", "tier", "kind", "referral_kind", "today_unit", "today_province"
        ),
    )
    op.create_index("ix_recordmonthcount_today_province_month", "recordmonthcount", ["today_province", "month"])
    op.create_table(
        "invitationmonthcount",
        *_attributed(),
        sa.Column("cadre_status", _text(20), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        *_today(),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.Column("examined", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            *("province", "month", "managing_unit", "tier", "cadre_status", "plan_id", "round_id"),
            *("today_unit", "today_province"),
        ),
    )
    op.create_index("ix_invitationmonthcount_today_province_month", "invitationmonthcount", ["today_province", "month"])
    op.execute(FILL_RECORDS)
    op.execute(FILL_INVITATIONS)
    op.create_index(
        "ix_clinicalfact_exams",
        "clinicalfact",
        [*EXAM_COLUMNS],
        postgresql_where=sa.text("kind = 'periodic_exam' AND withdrawn IS false AND classification IS NOT NULL"),
        sqlite_where=sa.text("kind = 'periodic_exam' AND withdrawn IS 0 AND classification IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_clinicalfact_exams", table_name="clinicalfact")
    op.drop_index("ix_invitationmonthcount_today_province_month", table_name="invitationmonthcount")
    op.drop_table("invitationmonthcount")
    op.drop_index("ix_recordmonthcount_today_province_month", table_name="recordmonthcount")
    op.drop_table("recordmonthcount")
