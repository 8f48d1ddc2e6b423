from pydantic import BaseModel


class RosterSummary(BaseModel):
    cadres: int
