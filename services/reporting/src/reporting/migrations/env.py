from alembic import context

from reporting.tables import metadata
from servicekit.migrations import run_env

run_env(context, metadata)
