"""Generate the gateway's route table from the services' own declarations:
`python -m tests.contract.route_table` (a step of `make contracts`) rewrites
libs/contracts/src/contracts/route_permissions.json.

It lives here, with the cross-service contract tests, because it must import every service: contracts
is imported by every service (and by the gateway) and so cannot depend on them, servicekit neither,
and the services must not know of each other. Building an app connects to nothing: a temporary
SQLite data_dir, no workers.
"""

import importlib
import sys
import tempfile
from pathlib import Path

from fastapi import FastAPI

import contracts.route_permissions
from contracts.route_permissions import TABLE_FILE, RouteTable, dump_route_table
from servicekit.route_permissions import route_permissions
from servicekit.settings import ServiceSettings

FORWARDED_SERVICES = ("registry", "scheduling", "clinical", "reporting")  # the gateway's own routes are not forwarded
TABLE_PATH = Path(contracts.route_permissions.__file__).with_name(TABLE_FILE)


def service_app(service: str, data_dir: Path) -> FastAPI:
    settings_module = importlib.import_module(f"{service}.settings")
    settings_class = next(
        value
        for value in vars(settings_module).values()
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value is not ServiceSettings
    )
    app: FastAPI = importlib.import_module(f"{service}.app").create_app(settings_class(data_dir=data_dir), run_workers=False)
    return app


def declared_route_table() -> RouteTable:
    """What the services declare today, route by route."""
    with tempfile.TemporaryDirectory(prefix="route-table-") as directory:
        return {service: route_permissions(service_app(service, Path(directory) / service)) for service in FORWARDED_SERVICES}


def write(path: Path = TABLE_PATH) -> int:
    text = dump_route_table(declared_route_table())
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(write())
