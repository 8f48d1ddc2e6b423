from alembic import context

from scheduling.tables import metadata
from servicekit.migrations import run_env

run_env(context, metadata)
