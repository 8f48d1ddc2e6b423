from datetime import datetime

from pydantic import BaseModel

from contracts.enums import CadreStatus, ManagementTier


class CadreCountRow(BaseModel):
    tier: ManagementTier
    status: CadreStatus
    count: int


class CadreCountReport(BaseModel):
    unit: str
    total: int
    rows: list[CadreCountRow]
    as_of: datetime
