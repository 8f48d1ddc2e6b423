"""The addresses feature's statements: units and successions are reference data (unscoped); every statement
over cadres starts from the caller's scope (registry.access)."""

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy import select as select_rows  # tuples of columns; sqlmodel's select is for one entity
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.addresses import AddressStatus
from contracts.enums import Action, UnitLevel
from contracts.scope import Principal
from registry.access import cadres_in_scope, in_scope
from registry.tables import AddressResolution, Cadre, Unit, UnitSuccession
from servicekit.scope import within_unit

OPEN = (AddressStatus.AMBIGUOUS.value, AddressStatus.UNRESOLVED.value)


def current_units_at(paths: Sequence[str]) -> SelectOfScalar[Unit]:
    return select(Unit).where(col(Unit.path).in_(paths), col(Unit.valid_to).is_(None))


def current_communes_named(provinces: Sequence[str], names: Sequence[str]) -> SelectOfScalar[Unit]:
    return select(Unit).where(
        col(Unit.parent_path).in_(provinces),
        col(Unit.name).in_(names),
        col(Unit.level) == UnitLevel.COMMUNE.value,
        col(Unit.valid_to).is_(None),
    )


def successions_from(paths: Sequence[str]) -> SelectOfScalar[UnitSuccession]:
    return select(UnitSuccession).where(col(UnitSuccession.old_path).in_(paths))


def readings_of(cadre_ids: Sequence[uuid.UUID]) -> SelectOfScalar[AddressResolution]:
    """Only for cadres already read through the scope."""
    return select(AddressResolution).where(col(AddressResolution.cadre_id).in_(cadre_ids))


def cadres_with_address(principal: Principal, unit: str | None) -> SelectOfScalar[Cadre]:
    query = cadres_in_scope(principal, Action.WRITE).where(col(Cadre.residence_address).is_not(None))
    return query.where(within_unit(col(Cadre.managing_unit), unit)) if unit else query


def _open_conditions(principal: Principal, unit: str | None) -> list[ColumnElement[bool]]:
    conditions = [in_scope(principal), col(AddressResolution.status).in_(OPEN)]
    if unit:
        conditions.append(within_unit(col(Cadre.managing_unit), unit))
    return conditions


def open_readings(principal: Principal, unit: str | None, offset: int, limit: int) -> Select[AddressResolution, Cadre]:
    """Addresses the board has to settle, of the cadres it sees, in name order."""
    return (
        select_rows(AddressResolution, Cadre)
        .join(Cadre, col(Cadre.id) == col(AddressResolution.cadre_id))
        .where(*_open_conditions(principal, unit))
        .order_by(col(Cadre.name_folded), col(Cadre.id))
        .offset(offset)
        .limit(limit)
    )


def count_open(principal: Principal, unit: str | None) -> Select[int]:
    return (
        select_rows(func.count())
        .select_from(AddressResolution)
        .join(Cadre, col(Cadre.id) == col(AddressResolution.cadre_id))
        .where(*_open_conditions(principal, unit))
    )
