"""Everything about one cadre, newest first, for readers in scope; and how many cadres clinical can match."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.access import ensure_cadre_in_scope
from clinical.timeline import queries
from clinical.views import record_public
from contracts.api.clinical import PatientSummary, RecordPublic
from contracts.api.common import Page
from contracts.enums import EncounterKind
from contracts.scope import Principal
from servicekit.pagination import PageParams, paginate


async def timeline(
    session: AsyncSession,
    principal: Principal,
    cadre_id: uuid.UUID,
    *,
    kind: EncounterKind | None,
    include_withdrawn: bool,
    page: PageParams,
) -> Page[RecordPublic]:
    await ensure_cadre_in_scope(session, principal, cadre_id)
    query = queries.timeline_of(principal, cadre_id, kind=kind, include_withdrawn=include_withdrawn)
    return await paginate(session, query, page, lambda row: record_public(row[0]))


async def patients_summary(session: AsyncSession, principal: Principal) -> PatientSummary:
    return PatientSummary(cadres=await session.scalar(queries.cadres_count(principal)) or 0)
