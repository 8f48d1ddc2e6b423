"""The units feature's statements. Units are reference data every caller may read: no scope filters them.
A reorganisation moves every cadre of the units it touches, whoever manages them: it is allowed only to a
caller with a write grant for every tier on each touched unit (domain.may_reorganise), hence unscoped here."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.registry import UnitPublic
from registry.tables import Cadre, Unit
from servicekit.scope import within_unit

UNIT_PUBLIC_FIELDS = tuple(UnitPublic.model_fields)


def known_paths() -> SelectOfScalar[str]:
    return select(col(Unit.path))


def current_units() -> SelectOfScalar[Unit]:
    return select(Unit).where(col(Unit.valid_to).is_(None))


def current_unit_at(path: str) -> SelectOfScalar[Unit]:
    return current_units().where(col(Unit.path) == path)


def unit_versions(under: str | None, on: date | None, all_versions: bool) -> SelectOfScalar[Unit]:
    """Units current today (default), as they stood on `on`, or every version."""
    query = select(Unit).order_by(col(Unit.path), col(Unit.valid_from))
    if under:
        query = query.where(within_unit(col(Unit.path), under))
    if on:
        query = query.where(col(Unit.valid_from) <= on, col(Unit.valid_to).is_(None) | (col(Unit.valid_to) > on))
    elif not all_versions:
        query = query.where(col(Unit.valid_to).is_(None))
    return query


def unit_rows(under: str | None, on: date | None, all_versions: bool) -> Select[Any]:
    """unit_versions as plain columns (the public shape): a national list is thousands of rows, not ORM objects."""
    columns = [col(getattr(Unit, name)) for name in UNIT_PUBLIC_FIELDS]
    return unit_versions(under, on, all_versions).with_only_columns(*columns)


def cadre_ids_managed_by(path: str) -> SelectOfScalar[uuid.UUID]:
    return select(col(Cadre.id)).where(col(Cadre.managing_unit) == path)


def cadres_managed_by(paths: Sequence[str]) -> SelectOfScalar[Cadre]:
    return select(Cadre).where(col(Cadre.managing_unit).in_(paths))


def cadres_with_ids(ids: Sequence[uuid.UUID]) -> SelectOfScalar[Cadre]:
    return select(Cadre).where(col(Cadre.id).in_(ids))
