from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    service_name: str = "reporting"
    min_cell_size: int = Field(
        default=10, ge=1, description="aggregates resting on fewer cadres than this are suppressed (central roll-up)"
    )
