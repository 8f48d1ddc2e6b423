"""Public API of clinical's QĐ 130/QĐ-BYT XML path (`POST /his/xml130`): the answer, encounter by encounter.

What is read from each table and every error: docs/his-integration.md ("The QĐ 130 XML path")."""

from enum import StrEnum

from pydantic import BaseModel, Field

from contracts.api.clinical import RecordRef
from contracts.api.common import FieldError


class Xml130Outcome(StrEnum):
    CREATED = "created"  # the encounter's records are new
    EXISTED = "existed"  # nothing changed: the same content is stored
    AMENDED = "amended"  # a new version of the encounter's records: `changed_tables` says which tables changed
    REFUSED = "refused"  # see errors; nothing of the encounter is stored
    NOT_A_CADRE = "not_a_cadre"  # the patient is not a cadre: nothing of the encounter is stored anywhere
    CHECKED_IN = "checked_in"  # a check-in (XML0) of a cadre: acknowledged, nothing stored


class Xml130Item(BaseModel):
    """One encounter (HOSO) of the upload, or one check-in row, or an envelope that could not be read at all."""

    envelope: int = Field(description="0-based position of the envelope in the upload")
    file: str | None = Field(default=None, description="name of the file in a ZIP or multipart upload")
    encounter: int | None = Field(default=None, description="0-based position of the HOSO (or check-in row) in the envelope")
    ma_cskcb: str | None = None
    ma_lk: str | None = None
    outcome: Xml130Outcome
    tables: list[str] = Field(default=[], description="tables of this upload, e.g. XML1, XML2")
    changed_tables: list[str] = []
    ignored: list[str] = Field(default=[], description="unknown elements and tables, ignored: TABLE/ELEMENT")
    records: list[RecordRef] = []
    errors: list[FieldError] = Field(default=[], description="loc: [table, element] or [envelope part]; MA_LK in the item")


class Xml130Result(BaseModel):
    envelopes: int
    counts: dict[str, int]  # outcome -> number of items
    items: list[Xml130Item]
