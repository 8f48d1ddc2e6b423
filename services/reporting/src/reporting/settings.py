from typing import Annotated

from fastapi import Depends
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.runtime import Runtime, get_runtime
from servicekit.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    service_name: str = "reporting"
    # Days after a period's end by which a board's report is due up the chain (completeness and timeliness). Neither
    # the seeds nor the guidance in docs name one for six-monthly and yearly reports: "shortly after the period
    # ends", so 15 days by default (REPORTING_REPORT_DEADLINE_DAYS).
    report_deadline_days: int = Field(default=15, ge=0, le=366)
    # the dashboard: coverage at or above the target is green (seed 000: 85%), up to the margin below amber
    coverage_target: float = Field(default=85.0, ge=0, le=100)
    coverage_amber_margin: float = Field(default=15.0, ge=0, le=100)
    facility_silent_days: int = Field(default=30, ge=1)  # a facility whose HIS has posted nothing for longer is flagged


ReportingRuntime = Annotated[Runtime[ReportingSettings], Depends(get_runtime)]
