from alembic import context

from gateway.tables import metadata
from servicekit.migrations import run_env

run_env(context, metadata)
