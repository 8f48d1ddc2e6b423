"""Columns several services keep of one contract shape: their tables of the same published facts.

The registry owns administrative units and keeps them as rows of these columns; reporting and scheduling
keep the units they learn from its events the same way (contracts.events.registry.UnitSnapshot). Scheduling
owns convalescence trips, reporting keeps the ones it publishes (ConvalescenceTripPublished). Each table
adds its own key and what only it keeps; these are not tables themselves.
"""

from datetime import date

from sqlmodel import Field, SQLModel


class UnitColumns(SQLModel):
    """An administrative unit's version: its official code, name and level, its parent, and when it held."""

    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    level: str = Field(max_length=20)
    parent_path: str | None = Field(default=None, max_length=100, index=True)
    valid_from: date
    valid_to: date | None = None


class TripColumns(SQLModel):
    """A convalescence trip (nghỉ dưỡng): the board that runs it, where and when, and how many it takes."""

    board_unit: str = Field(max_length=100, index=True)
    title: str = Field(max_length=300)
    destination: str = Field(max_length=300)
    starts_on: date
    ends_on: date
    quota: int
