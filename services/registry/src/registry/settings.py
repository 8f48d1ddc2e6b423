from typing import Annotated

from fastapi import Depends
from pydantic_settings import SettingsConfigDict

from servicekit.runtime import Runtime, get_runtime
from servicekit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    service_name: str = "registry"
    future_horizon_days: int = 30  # how far ahead an effective date may lie
    # On SQLite, queue this process's writers on one lock (servicekit.db): the outbox relay polled in SQLite's
    # busy handler behind list imports; with the lock, bench platform's paced imports measured relay p99 0.8-1.0 s
    # instead of 1.2-1.4 s under the same load, and the imports went faster. PostgreSQL ignores it.
    sqlite_one_writer: bool = True


RegistryRuntime = Annotated[Runtime[RegistrySettings], Depends(get_runtime)]
