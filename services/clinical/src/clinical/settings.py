from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class ClinicalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLINICAL_", extra="ignore")

    service_name: str = "clinical"
    sqlite_one_writer: bool = True  # HIS posts arrive many at a time: queue them instead of busy-waiting
