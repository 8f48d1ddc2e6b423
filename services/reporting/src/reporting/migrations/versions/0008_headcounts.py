"""headcounts on any day: totals and their steps by year, month and day

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 07:00:00

Cadres under care, and those with each chronic condition group and with how many, per unit (as then and today),
tier and status (`reporting.headcounts`), filled here from the intervals and diagnoses already stored; the
projections keep them from then on. The filling is the projections' own recount (`headcounts.store.refill`): a
cadre's history is cut into segments in Python, which SQL would say far less plainly.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = ("province", "managing_unit", "tier", "status", "today_unit", "today_province", "measure")


def _key() -> list[sa.Column[str]]:
    lengths = {"province": 100, "managing_unit": 100, "tier": 30, "status": 20, "today_unit": 100, "today_province": 100}
    columns = [sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=n), nullable=False) for name, n in lengths.items()]
    return [*columns, sa.Column("measure", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False)]


def upgrade() -> None:
    op.create_table("headcounttotal", *_key(), sa.Column("cadres", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint(*KEY))
    op.create_index("ix_headcounttotal_today_province", "headcounttotal", ["today_province"])
    op.create_table(
        "headcountstep",
        *_key(),
        sa.Column("grain", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, "grain", "starts_on"),
    )
    op.create_index("ix_headcountstep_grain_starts", "headcountstep", ["grain", "starts_on"])
    op.create_index("ix_headcountstep_today_province_grain_starts", "headcountstep", ["today_province", "grain", "starts_on"])
    from reporting.headcounts.store import refill  # noqa: PLC0415  (the service's code, only when upgrading)

    with Session(bind=op.get_bind()) as session:
        refill(session)
        session.flush()


def downgrade() -> None:
    op.drop_index("ix_headcountstep_today_province_grain_starts", table_name="headcountstep")
    op.drop_index("ix_headcountstep_grain_starts", table_name="headcountstep")
    op.drop_table("headcountstep")
    op.drop_index("ix_headcounttotal_today_province", table_name="headcounttotal")
    op.drop_table("headcounttotal")
