"""The session statements: refresh tokens (by family: a session) and revoked access tokens (by jti)."""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Delete, Update, delete, update
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from gateway.tables import RefreshTokenRow, RevokedTokenRow


def close_family(family: str, at: datetime) -> Update:
    """Revoke every refresh token of a session that is not revoked yet."""
    return (
        update(RefreshTokenRow)
        .where(col(RefreshTokenRow.family) == family, col(RefreshTokenRow.revoked_at).is_(None))
        .values(revoked_at=at)
    )


def revoked_among(jtis: Collection[str]) -> SelectOfScalar[str]:
    """Which of these access tokens are revoked."""
    return select(col(RevokedTokenRow.jti)).where(col(RevokedTokenRow.jti).in_(sorted(jtis)))


def expired_revocations(now: datetime) -> Delete:
    """Revocations of access tokens that have expired anyway."""
    return delete(RevokedTokenRow).where(col(RevokedTokenRow.expires_at) < now)


def close_sessions_of(subject: str, at: datetime) -> Update:
    """Revoke every open session of a principal (it was disabled): its refresh tokens stop working."""
    return (
        update(RefreshTokenRow)
        .where(col(RefreshTokenRow.subject) == subject, col(RefreshTokenRow.revoked_at).is_(None))
        .values(revoked_at=at)
    )
