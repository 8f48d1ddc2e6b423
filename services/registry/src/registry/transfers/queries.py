"""The transfers feature's statements: the cadres a bulk filter selects, within the caller's scope."""

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, func
from sqlalchemy import select as select_rows  # tuples of columns; sqlmodel's select is for one entity
from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.registry import CadreFilter
from contracts.enums import Action
from contracts.scope import Principal
from registry.access import cadres_in_scope
from registry.tables import Cadre, CadrePeriod
from servicekit.scope import within_unit


def selected(principal: Principal, where: CadreFilter, action: Action = Action.WRITE) -> SelectOfScalar[Cadre]:
    query = cadres_in_scope(principal, action)
    if where.unit:
        query = query.where(within_unit(col(Cadre.managing_unit), where.unit))
    if where.residence_unit:
        query = query.where(within_unit(col(Cadre.residence_unit), where.residence_unit))
    if where.tier:
        query = query.where(col(Cadre.tier) == where.tier.value)
    if where.status:
        query = query.where(col(Cadre.status) == where.status.value)
    if where.ids:
        query = query.where(col(Cadre.id).in_(where.ids))
    return query


def count_selected(principal: Principal, where: CadreFilter, action: Action) -> Select[int]:
    return select_rows(func.count()).select_from(selected(principal, where, action).subquery())


def open_period_starts(cadre_ids: Sequence[uuid.UUID]) -> Select[uuid.UUID, date]:
    """When each cadre's current state began (only ids `selected` returned)."""
    return select_rows(col(CadrePeriod.cadre_id), col(CadrePeriod.valid_from)).where(
        col(CadrePeriod.cadre_id).in_(cadre_ids), col(CadrePeriod.valid_to).is_(None)
    )
