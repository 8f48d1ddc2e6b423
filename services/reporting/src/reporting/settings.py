from pydantic import Field
from pydantic_settings import SettingsConfigDict

from reporting.domain import DEFAULT_MIN_CELL_SIZE
from servicekit.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    service_name: str = "reporting"
    min_cell_size: int = Field(
        default=DEFAULT_MIN_CELL_SIZE,
        ge=1,
        description="aggregates resting on fewer cadres than this are suppressed (central roll-up)",
    )


def min_cell_size_of(settings: ServiceSettings) -> int:
    """The configured suppression threshold of a running service's settings (the default if they are not reporting's)."""
    return settings.min_cell_size if isinstance(settings, ReportingSettings) else DEFAULT_MIN_CELL_SIZE
