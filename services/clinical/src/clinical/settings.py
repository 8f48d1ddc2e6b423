from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class ClinicalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLINICAL_", extra="ignore")

    service_name: str = "clinical"
