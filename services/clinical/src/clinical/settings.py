from pathlib import Path

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class Xml130Facility(BaseModel):
    """How a facility's QĐ 130 uploads are checked: its BHXH code and the certificate it signs with."""

    ma_cskcb: str = Field(min_length=1, max_length=10, description="the facility's BHXH code (MACSKCB), e.g. 68001")
    certificate_file: Path | None = Field(default=None, description="PEM of the certificate registered for CHUKYDONVI")
    signature_required: bool | None = Field(default=None, description="None: required in production only")


class ClinicalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLINICAL_", extra="ignore")

    service_name: str = "clinical"
    sqlite_one_writer: bool = True  # HIS posts arrive many at a time: queue them instead of busy-waiting
    group_commit: bool = Field(
        default=True,
        description="single HIS records posted at once are written in one transaction (clinical.ingestion.group_commit)",
    )
    xml130_facilities: dict[str, Xml130Facility] = Field(
        default={},
        description="CadreCare facility code -> its QĐ 130 registration (JSON in CLINICAL_XML130_FACILITIES); "
        "a facility not listed must send its own facility code as MACSKCB",
    )

    @model_validator(mode="after")
    def _signatures_in_production(self) -> "ClinicalSettings":
        if self.environment == "production":
            unsigned = sorted(code for code, f in self.xml130_facilities.items() if f.signature_required is False)
            if unsigned:
                raise ValueError(f"production requires signed QĐ 130 uploads: signature_required is false for {unsigned}")
        return self

    def xml130_facility(self, facility: str) -> Xml130Facility:
        registered = self.xml130_facilities.get(facility) or Xml130Facility(ma_cskcb=facility[:10])
        if registered.signature_required is None:
            return registered.model_copy(update={"signature_required": self.environment == "production"})
        return registered
