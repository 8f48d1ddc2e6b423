"""The statements of QĐ 130 ingestion: which cadres an XML1 names, and the stored files of an encounter.

Not scope-filtered, like the core's cadres_named: a HIS writes for cadres in its WRITE grants, which the
ingestion core checks record by record so that the refusal names the element; the files read are the
facility's own (filtered on it)."""

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, or_, select

from clinical.ingestion.queries import CADRE_COLUMNS, CADRES
from clinical.tables import Xml130File
from servicekit.sql import table_of

FILES = table_of(Xml130File)


def cadres_by_identity(national_ids: Collection[str], bhyt_numbers: Collection[str]) -> Select[Any]:
    """Cadres of the read model with one of these CCCDs or BHYT card numbers (not both empty)."""
    conditions = []
    if national_ids:
        conditions.append(CADRES.c.national_id.in_(sorted(national_ids)))
    if bhyt_numbers:
        conditions.append(CADRES.c.bhyt_number.in_(sorted(bhyt_numbers)))
    return select(*(CADRES.c[name] for name in CADRE_COLUMNS), CADRES.c.bhyt_number).where(or_(*conditions))


def stored_files(facility: str, ma_lks: Collection[str]) -> Select[Any]:
    """Every stored version of the facility's files of these encounters, oldest first (the caller keeps the latest)."""
    return (
        select(FILES.c.ma_lk, FILES.c.table_name, FILES.c.version, FILES.c.sha256, FILES.c.content)
        .where(FILES.c.facility == facility, FILES.c.ma_lk.in_(sorted(ma_lks)))
        .order_by(FILES.c.version)
    )
