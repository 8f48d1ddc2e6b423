from pydantic import BaseModel


class PatientSummary(BaseModel):
    cadres: int
