from typing import Annotated

from fastapi import Depends
from pydantic_settings import SettingsConfigDict

from servicekit.runtime import Runtime, get_runtime
from servicekit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    service_name: str = "registry"
    future_horizon_days: int = 30  # how far ahead an effective date may lie


RegistryRuntime = Annotated[Runtime[RegistrySettings], Depends(get_runtime)]
