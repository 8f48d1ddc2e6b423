"""Cadre use cases: register, read, search, correct, field history, likely duplicates."""

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.common import Page
from contracts.api.registry import CadreChange as CadreChangeOut
from contracts.api.registry import CadreCreate, CadrePublic, CadreUpdate, DuplicateGroup
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.registry import CadreRegistered, CadreUpdated
from contracts.scope import Principal
from registry.access import readable_cadre, writable_cadre
from registry.addresses.service import fill_residences, mark_settled, residence_of
from registry.cadres import queries
from registry.cards.service import reissue_if_needed
from registry.domain import CARD_FIELDS, Operation, fold_name, name_fields, name_key, national_id_problems, registration_problems
from registry.history import append_events, change_rows, open_periods, record_changes
from registry.mappers import cadre_public, cadre_snapshot
from registry.rules import Rules, refuse
from registry.tables import Cadre
from registry.tiers.service import check_tier_on
from registry.units.service import current_unit
from servicekit import clock
from servicekit.errors import Conflict, Forbidden, Refused, field_error
from servicekit.outbox import Outbox, OutgoingEvent
from servicekit.pagination import PageParams, page_of
from servicekit.scope import may


async def duplicate_pointer(session: AsyncSession, principal: Principal, national_id: str) -> str | None:
    """None if the CCCD is free; else a sentence naming the record if the caller may see it."""
    existing = await session.scalar(queries.holder_of_national_id(national_id))
    if existing is None:
        return None
    visible = await session.scalar(queries.visible_cadre(principal, existing))
    pointer = f" (existing record {existing})" if visible is not None else ""
    return f"a cadre with this national ID is already registered{pointer}"


async def register_cadre(
    session: AsyncSession, outbox: Outbox, principal: Principal, data: CadreCreate, rules: Rules
) -> CadrePublic:
    unit = await current_unit(session, data.managing_unit)
    status_since = data.status_since or rules.today
    await check_tier_on(session, unit, data.tier, status_since)
    refuse(national_id_problems(data.national_id, data.date_of_birth, data.sex), "invalid national ID")
    refuse(
        registration_problems(data.status, status_since, data.date_of_birth, today=rules.today, horizon_days=rules.horizon_days)
    )
    if not may(principal, Action.WRITE, data.managing_unit, data.tier):
        raise Forbidden("the managing unit and tier are outside your scope", code="out_of_scope")
    duplicate = await duplicate_pointer(session, principal, data.national_id)
    if duplicate is not None:
        raise Conflict(duplicate, code="duplicate_national_id")
    cadre = Cadre(**data.model_dump(exclude={"status_since"}), **name_fields(data.full_name), status_since=status_since)
    await fill_residences(session, [cadre])  # a residence unit given explicitly wins over the address
    session.add(cadre)
    await session.flush()
    await after_registration(session, outbox, principal, [cadre])
    return cadre_public(cadre)


async def after_registration(session: AsyncSession, outbox: Outbox, principal: Principal, cadres: Sequence[Cadre]) -> None:
    """History, first period and event of newly registered cadres (one or an import's thousands)."""
    now = clock.now()
    await open_periods(
        session,
        [
            {"cadre_id": c.id, "valid_from": c.status_since, "tier": c.tier, "status": c.status, "managing_unit": c.managing_unit}
            for c in cadres
        ],
    )
    rows = []
    for c in cadres:  # one line: the registered values are in the event and the first period
        rows += change_rows(
            c.id, principal.subject, Operation.REGISTER, {"record": (None, "registered")}, effective=c.status_since, at=now
        )
    await record_changes(session, rows)
    await append_events(
        session,
        outbox,
        [
            OutgoingEvent(CadreRegistered(cadre=cadre_snapshot(c)), str(c.id), c.managing_unit, ManagementTier(c.tier))
            for c in cadres
        ],
    )


async def get_cadre(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> CadrePublic:
    return cadre_public(await readable_cadre(session, principal, cadre_id))


async def list_cadres(session: AsyncSession, principal: Principal, search: queries.Search, page: PageParams) -> Page[CadrePublic]:
    holder = await session.scalar(queries.holder_of_card(search.card_number)) if search.card_number else None
    conditions = queries.search_conditions(principal, search, holder)
    folded = fold_name(search.q or "")
    if folded and not folded.isdigit():  # names containing the words only when none starts with them
        ids, total = await name_page(session, [*conditions, queries.name_starts(folded)], page)
        if not total:
            ids, total = await name_page(session, [*conditions, queries.name_contains(folded)], page)
    else:
        total = await session.scalar(queries.count_where(conditions)) or 0
        ids = list(await session.scalars(queries.page_ids(conditions, page.offset, page.limit)))
    rows = {c.id: c for c in await session.scalars(queries.cadres_with_ids(ids))} if ids else {}
    return page_of([cadre_public(rows[cadre_id]) for cadre_id in ids], total, page)


async def name_page(
    session: AsyncSession, conditions: list[ColumnElement[bool]], page: PageParams
) -> tuple[list[uuid.UUID], int]:
    """A name search's page and its total (counted apart only for a page past the end); see queries.page_and_total."""
    found = (await session.execute(queries.page_and_total(conditions, page.offset, page.limit))).all()
    if found:
        return [cadre_id for cadre_id, _ in found], found[0][1]
    return [], await session.scalar(queries.count_where(conditions)) or 0


async def update_cadre(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, data: CadreUpdate
) -> CadrePublic:
    cadre = await writable_cadre(session, principal, cadre_id)
    if cadre.status in (CadreStatus.DECEASED, CadreStatus.REMOVED):
        raise Refused("no change after death or removal", errors=[field_error("status", f"the cadre is {cadre.status}")])
    wanted: dict[str, Any] = data.model_dump(exclude_unset=True, mode="json")
    for name in ("full_name", "date_of_birth", "sex", "national_id", "eligibility"):  # [] clears the eligibility
        if name in wanted and wanted[name] is None:
            raise Refused("a required field cannot be emptied", errors=[field_error(name, "may not be null")])
    current: dict[str, Any] = cadre_public(cadre).model_dump(mode="json")
    if (
        wanted.get("residence_address")
        and "residence_unit" not in wanted
        and wanted["residence_address"] != current["residence_address"]
    ):
        wanted["residence_unit"] = await residence_of(session, cadre.id, wanted["residence_address"])
    changes = {name: (current[name], value) for name, value in wanted.items() if current[name] != value}
    if not changes:
        return cadre_public(cadre)
    try:
        merged = CadrePublic.model_validate({**current, **wanted})
    except ValidationError as exc:  # a rule across fields, e.g. a BHYT card valid to before valid from
        errors = [field_error(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors(include_url=False)]
        raise Refused("the change is refused", errors=errors) from exc
    if {"national_id", "date_of_birth", "sex"} & changes.keys():
        refuse(national_id_problems(merged.national_id, merged.date_of_birth, merged.sex), "invalid national ID")
    if "national_id" in changes:
        duplicate = await duplicate_pointer(session, principal, merged.national_id)
        if duplicate is not None:
            raise Conflict(duplicate, code="duplicate_national_id")
    for name in changes:
        setattr(cadre, name, getattr(merged, name))
    if "full_name" in changes:
        cadre.name_folded, cadre.name_key = fold_name(merged.full_name), name_key(merged.full_name)
    cadre.updated_at = clock.now()
    if "residence_unit" in changes and "residence_unit" in data.model_fields_set:
        await mark_settled(session, principal, cadre)
    await record_changes(session, change_rows(cadre.id, principal.subject, Operation.UPDATE, changes))
    await session.flush()
    await outbox.append(
        session,
        CadreUpdated(cadre=cadre_snapshot(cadre), changed_fields=sorted(changes)),
        subject=str(cadre.id),
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
    )
    if CARD_FIELDS & changes.keys():
        await reissue_if_needed(session, outbox, principal, cadre, "details on the card changed")
    return cadre_public(cadre)


async def cadre_history(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> list[CadreChangeOut]:
    await readable_cadre(session, principal, cadre_id)  # 404 outside scope
    rows = await session.scalars(queries.changes_of(cadre_id))
    return [CadreChangeOut.model_validate(r, from_attributes=True) for r in rows]


async def likely_duplicates(session: AsyncSession, principal: Principal, unit: str | None, limit: int) -> list[DuplicateGroup]:
    """Cadres (in scope) sharing a folded name and a date of birth."""
    base = queries.duplicates_base(principal, unit)
    groups = []
    for name, born in (await session.execute(queries.duplicate_keys(base, limit))).all():
        members = await session.scalars(queries.duplicate_members(base, name, born))
        groups.append(DuplicateGroup(name_folded=name, date_of_birth=born, cadres=[cadre_public(c) for c in members]))
    return groups
