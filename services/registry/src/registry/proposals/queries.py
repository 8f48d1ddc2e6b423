"""The proposals feature's statements: a proposal is reached through the write scope of its unit and tier."""

import uuid

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.scope import Principal
from registry.tables import Proposal
from servicekit.scope import writable

OPEN = ("proposed", "appraised")


def proposals_in_scope(principal: Principal) -> SelectOfScalar[Proposal]:
    """Every proposal query starts here: the caller works on proposals of units and tiers they may write."""
    return select(Proposal).where(writable(principal, col(Proposal.managing_unit), col(Proposal.tier)))


def listed(principal: Principal, status: str | None) -> SelectOfScalar[Proposal]:
    query = proposals_in_scope(principal)
    if status:
        query = query.where(col(Proposal.status) == status)
    return query.order_by(col(Proposal.proposed_at))


def open_proposal_for(national_id: str) -> SelectOfScalar[uuid.UUID]:
    """Unscoped on purpose: one open proposal per CCCD, whoever proposed it."""
    return select(col(Proposal.id)).where(col(Proposal.national_id) == national_id, col(Proposal.status).in_(OPEN))
