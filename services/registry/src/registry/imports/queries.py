"""The imports feature's statements. Which CCCDs are registered is asked of the whole registry (a CCCD is
unique), but a row names an existing record only to a caller whose scope covers it."""

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, tuple_
from sqlalchemy import select as select_rows  # tuples of columns; sqlmodel's select is for one entity
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.scope import Principal
from registry.access import in_scope
from registry.tables import Cadre


def registered_national_ids(national_ids: Sequence[str]) -> Select[str, uuid.UUID]:
    return select_rows(col(Cadre.national_id), col(Cadre.id)).where(col(Cadre.national_id).in_(national_ids))


def visible_among(principal: Principal, cadre_ids: Sequence[uuid.UUID]) -> SelectOfScalar[uuid.UUID]:
    return select(col(Cadre.id)).where(col(Cadre.id).in_(cadre_ids), in_scope(principal))


def registered_names_and_births(keys: Sequence[tuple[str, date]]) -> Select[str, date]:
    """Likely duplicates are warned of whoever manages them (the warning names no record). Each key once:
    a common name and birthday can be shared by thousands of registered cadres, and the warning needs one."""
    return (
        select_rows(col(Cadre.name_folded), col(Cadre.date_of_birth))
        .where(tuple_(col(Cadre.name_folded), col(Cadre.date_of_birth)).in_(keys))
        .distinct()
    )
