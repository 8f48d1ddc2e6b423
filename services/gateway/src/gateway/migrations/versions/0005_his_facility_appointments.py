"""HIS clients read and mark their exam days' invitations (FHIR Appointment): the permission is added to every
HIS client already stored, as the role template now gives it to new ones (the principals file only seeds new
identities, it never rewrites stored ones).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 21:30:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERMISSION = "scheduling.facility_appointments"
IDENTITIES = sa.table(
    "identities", sa.column("subject", sa.String), sa.column("kind", sa.String), sa.column("permissions", sa.JSON)
)


def _rewrite(change: str) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(IDENTITIES.c.subject, IDENTITIES.c.permissions).where(IDENTITIES.c.kind == "his"))
    for subject, stored in rows.all():
        permissions = json.loads(stored) if isinstance(stored, str) else list(stored or [])
        updated = sorted(set(permissions) | {PERMISSION}) if change == "add" else [p for p in permissions if p != PERMISSION]
        if updated != permissions:
            connection.execute(sa.update(IDENTITIES).where(IDENTITIES.c.subject == subject).values(permissions=updated))


def upgrade() -> None:
    _rewrite("add")


def downgrade() -> None:
    _rewrite("remove")
