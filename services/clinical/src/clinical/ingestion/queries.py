"""The statements of ingestion besides the heads' own (clinical.heads): the cadres a request names, and
the hashes of a record's earlier versions (a late retry of one of them is not a new version)."""

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.domain import CadreView
from clinical.tables import ClinicalRecordVersion, PatientCadre
from servicekit.sql import table_of

CADRES = table_of(PatientCadre)
VERSIONS = table_of(ClinicalRecordVersion)
CADRE_COLUMNS = ("cadre_id", "national_id", "card_number", "managing_unit", "tier", "status", "date_of_death")


def cadres_named(cards: Collection[str], national_ids: Collection[str]) -> Select[Any]:
    """The cadres of the read model holding any of these health-care cards or CCCDs (not both empty).

    Not scope-filtered: a HIS writes for cadres in its WRITE grants, which domain.cadre_errors checks
    item by item so that the refusal names the field."""
    conditions = []
    if cards:
        conditions.append(CADRES.c.card_number.in_(sorted(cards)))
    if national_ids:
        conditions.append(CADRES.c.national_id.in_(sorted(national_ids)))
    return select(*(CADRES.c[name] for name in CADRE_COLUMNS)).where(or_(*conditions))


def earlier_hashes(record_id: uuid.UUID) -> Select[Any]:
    return select(VERSIONS.c.body_hash).where(VERSIONS.c.record_id == record_id)


async def load_cadres(
    session: AsyncSession, cards: Collection[str], national_ids: Collection[str]
) -> tuple[dict[str, CadreView], dict[str, CadreView]]:
    """The cadres named by card number or CCCD, in one query: (by card, by CCCD)."""
    if not cards and not national_ids:
        return {}, {}
    by_card: dict[str, CadreView] = {}
    by_nid: dict[str, CadreView] = {}
    for row in await session.execute(cadres_named(cards, national_ids)):
        view = CadreView(*row)
        by_nid[view.national_id] = view
        if view.card_number:
            by_card[view.card_number] = view
    return by_card, by_nid
