"""The chronic problem list: the chronic-condition groups of a cadre's diagnoses, with first and last seen."""

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from clinical import codes, domain
from clinical.access import ensure_cadre_in_scope
from clinical.conditions import queries
from contracts.api.conditions import ChronicCondition, ProblemList
from contracts.scope import Principal


@dataclass
class Seen:
    """One group across the records: when it was first and last seen, with which codes, in how many records."""

    first: date
    last: date
    codes: set[str] = field(default_factory=set)
    records: int = 0

    def add(self, on: date, matched: set[str]) -> None:
        self.first, self.last = min(self.first, on), max(self.last, on)
        self.codes |= matched
        self.records += 1


async def problem_list(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> ProblemList:
    await ensure_cadre_in_scope(session, principal, cadre_id)
    seen: dict[str, Seen] = {}
    for row in await session.scalars(queries.current_records_of(principal, cadre_id)):
        diagnoses = domain.summarise(row.kind, row.body).diagnoses
        for group in codes.chronic_groups():
            matched = {code for code in diagnoses if group.matches(code)}
            if matched:
                seen.setdefault(group.group, Seen(row.occurred_on, row.occurred_on)).add(row.occurred_on, matched)
    conditions = [
        ChronicCondition(
            group=g.group,
            label_vi=g.label_vi,
            label_en=g.label_en,
            codes=sorted(seen[g.group].codes),
            first_seen=seen[g.group].first,
            last_seen=seen[g.group].last,
            records=seen[g.group].records,
        )
        for g in codes.chronic_groups()  # in the grouping data's order
        if g.group in seen
    ]
    return ProblemList(cadre_id=cadre_id, conditions=conditions, comorbidity=len(conditions))
