"""The bodies feature's statements. Bodies are reference data (like units): every caller with the units
permission lists them. Closing one moves every cadre it manages, whoever may see them: allowed only to a
caller with a write grant for every tier on each body closed and on the receiving one, hence unscoped here."""

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from registry.tables import Cadre, ManagingBody
from servicekit.scope import within_unit


def current_bodies() -> SelectOfScalar[ManagingBody]:
    return select(ManagingBody).where(col(ManagingBody.valid_to).is_(None))


def current_body_at(path: str) -> SelectOfScalar[ManagingBody]:
    return current_bodies().where(col(ManagingBody.path) == path)


def current_bodies_at(paths: Sequence[str]) -> SelectOfScalar[ManagingBody]:
    return current_bodies().where(col(ManagingBody.path).in_(paths))


def body_versions(under: str | None, all_versions: bool) -> SelectOfScalar[ManagingBody]:
    query = select(ManagingBody).order_by(col(ManagingBody.path), col(ManagingBody.valid_from))
    if under:
        query = query.where(within_unit(col(ManagingBody.path), under))
    if not all_versions:
        query = query.where(col(ManagingBody.valid_to).is_(None))
    return query


def cadres_managed_by(paths: Sequence[str]) -> SelectOfScalar[Cadre]:
    return select(Cadre).where(col(Cadre.managing_unit).in_(paths)).order_by(col(Cadre.id))
