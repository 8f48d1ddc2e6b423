"""Public API of clinical's chronic problem lists: what a doctor in scope reads of a cadre's conditions."""

import uuid
from datetime import date

from pydantic import BaseModel


class ChronicCondition(BaseModel):
    group: str
    label_vi: str
    label_en: str
    codes: list[str]
    first_seen: date
    last_seen: date
    records: int


class ProblemList(BaseModel):
    """A cadre's chronic problem list, derived from the diagnoses of their current records."""

    cadre_id: uuid.UUID
    conditions: list[ChronicCondition]
    comorbidity: int  # how many chronic groups at once
