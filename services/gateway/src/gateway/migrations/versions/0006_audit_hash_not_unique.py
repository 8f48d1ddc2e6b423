"""The audit records' hash loses its unique index: no query looks a record up by its hash, and the chain check
recomputes every hash and link itself (gateway.domain). Each append paid for the index, a random 64-character
key (bench: 30 -> 17-24 us of SQLite per record at 100,000 records). A replayed journal entry is still refused
by the unique `entry_id`, and a second record at one place of the chain by the primary key `seq`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 03:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite keeps the constraint unnamed (0001 created it inline): batch mode names what it reflects by this
# convention, so that it can be dropped by name; PostgreSQL named it itself.
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
POSTGRESQL_NAME = "audit_records_hash_key"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("audit_records", naming_convention=SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint("uq_audit_records_hash", type_="unique")
    else:
        op.drop_constraint(POSTGRESQL_NAME, "audit_records", type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("audit_records", naming_convention=SQLITE_NAMES) as batch_op:
            batch_op.create_unique_constraint("uq_audit_records_hash", ["hash"])
    else:
        op.create_unique_constraint(POSTGRESQL_NAME, "audit_records", ["hash"])
