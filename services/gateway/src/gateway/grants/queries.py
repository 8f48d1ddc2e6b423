"""The grant statements. Grants are not rows of a unit's scope: any holder of gateway.grants.read sees
them all (who may hand out or revoke which grant is a rule: gateway.domain.may_hand_out)."""

from collections.abc import Collection
from datetime import datetime

from sqlmodel import col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from gateway.tables import GrantRow


def grants_of(subjects: Collection[str]) -> SelectOfScalar[GrantRow]:
    """Every grant row of some subjects, history included."""
    return select(GrantRow).where(col(GrantRow.subject).in_(sorted(subjects)))


def subjects_with_history() -> SelectOfScalar[str]:
    return select(col(GrantRow.subject)).distinct()


def unrevoked() -> SelectOfScalar[GrantRow]:
    return select(GrantRow).where(col(GrantRow.revoked_at).is_(None))


def listing(*, subject: str | None, history: bool, now: datetime) -> SelectOfScalar[GrantRow]:
    """Grants in force at `now` (or, with history, every grant ever given), by subject and date given."""
    query = select(GrantRow) if subject is None else grants_of([subject])
    if not history:
        query = query.where(
            col(GrantRow.revoked_at).is_(None), or_(col(GrantRow.valid_to).is_(None), col(GrantRow.valid_to) > now)
        )
    return query.order_by(col(GrantRow.subject), col(GrantRow.granted_at), col(GrantRow.id))


def unrevoked_of(subjects: Collection[str]) -> SelectOfScalar[GrantRow]:
    """The unrevoked grant rows of some subjects (validity dates are applied by gateway.domain.grants_in_force)."""
    return select(GrantRow).where(col(GrantRow.subject).in_(sorted(subjects)), col(GrantRow.revoked_at).is_(None))
