from typing import Annotated

from fastapi import Depends
from pydantic_settings import SettingsConfigDict

from servicekit.runtime import Runtime, get_runtime
from servicekit.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    service_name: str = "reporting"


ReportingRuntime = Annotated[Runtime[ReportingSettings], Depends(get_runtime)]
