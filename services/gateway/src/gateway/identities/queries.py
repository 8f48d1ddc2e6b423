"""The identity statements. An administrator's listings start from `administered_by`: the users and clients of
the units its person-level grants cover (gateway.domain.administers then drops those with wider rights)."""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Update, false, or_, update
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.scope import Principal
from gateway.domain import PERSON_LEVEL
from gateway.tables import IdentityRow
from servicekit.scope import within_unit


def administered_by(admin: Principal) -> SelectOfScalar[IdentityRow]:
    clauses = [within_unit(col(IdentityRow.unit_path), g.unit_path) for g in admin.grants if g.actions & PERSON_LEVEL]
    return select(IdentityRow).where(or_(*clauses) if clauses else false())


def listing(admin: Principal, login: str) -> SelectOfScalar[IdentityRow]:
    return administered_by(admin).where(col(IdentityRow.login) == login).order_by(col(IdentityRow.name))


def one(admin: Principal, subject: str) -> SelectOfScalar[IdentityRow]:
    return administered_by(admin).where(col(IdentityRow.subject) == subject)


def known_subjects() -> SelectOfScalar[str]:
    return select(col(IdentityRow.subject))


def active() -> SelectOfScalar[IdentityRow]:
    return select(IdentityRow).where(col(IdentityRow.disabled_at).is_(None)).order_by(col(IdentityRow.subject))


def active_among(subjects: Collection[str]) -> SelectOfScalar[IdentityRow]:
    """The rows of these subjects that are not disabled."""
    return select(IdentityRow).where(col(IdentityRow.subject).in_(sorted(subjects)), col(IdentityRow.disabled_at).is_(None))


def signing_in(subject: str) -> SelectOfScalar[IdentityRow]:
    """The account a sign-in names, locked for the update of its failure count (not scope-filtered: the caller
    is not known yet, and proves who it is with the secret)."""
    return select(IdentityRow).where(col(IdentityRow.subject) == subject).with_for_update()


def record_signin(subject: str, failures: int, locked_until: datetime | None) -> Update:
    return (
        update(IdentityRow).where(col(IdentityRow.subject) == subject).values(failed_signins=failures, locked_until=locked_until)
    )
