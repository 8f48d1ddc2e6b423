"""Address use cases: read a residence address to today's commune on registration, update and import; read every
address of a caller's cadres in bulk; list the ambiguous ones; let the board settle one."""

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.addresses import AddressBulkResolve, AddressBulkResult, AddressReading, AddressStatus
from contracts.api.common import Page
from contracts.enums import ManagementTier, UnitLevel
from contracts.events.registry import CadreUpdated
from contracts.scope import Principal
from registry.access import writable_cadre
from registry.addresses import queries
from registry.addresses.domain import MAX_HOPS, Outcome, UnitFacts, communes_named, key, paths_named, read_address, resolve
from registry.domain import Operation
from registry.history import append_events, change_rows, chunks, record_changes
from registry.mappers import cadre_snapshot
from registry.tables import AddressResolution, Cadre
from servicekit import clock
from servicekit.errors import Refused, field_error
from servicekit.outbox import Outbox, OutgoingEvent
from servicekit.pagination import PageParams, page_of

READ_REASON = "read from the residence address"


async def unit_facts(session: AsyncSession, paths: Iterable[str]) -> UnitFacts:
    """The units the readings name and every unit they became, in a few statements (one per hop and chunk)."""
    current: set[str] = set()
    communes: set[str] = set()
    successors: dict[str, list[str]] = {}
    frontier = seen = set(paths)
    for _ in range(MAX_HOPS):
        if not frontier:
            break
        following: set[str] = set()
        for part in chunks(sorted(frontier), 2000):
            for unit in await session.scalars(queries.current_units_at(part)):
                current.add(unit.path)
                if unit.level == UnitLevel.COMMUNE.value:
                    communes.add(unit.path)
            for succession in await session.scalars(queries.successions_from(part)):
                successors.setdefault(succession.old_path, []).append(succession.new_path)
                following.add(succession.new_path)
        frontier = following - seen
        seen = seen | following
    return UnitFacts(frozenset(current), frozenset(communes), {old: tuple(news) for old, news in successors.items()})


async def communes_by_name(session: AsyncSession, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Today's communes of the given names in the given provinces, keyed by (province, folded name)."""
    found: dict[tuple[str, str], list[str]] = {}
    for part in chunks(sorted(wanted), 1000):
        provinces, names = sorted({p for p, _ in part}), sorted({n for _, n in part})
        for unit in await session.scalars(queries.current_communes_named(provinces, names)):
            found.setdefault((unit.parent_path or "", key(unit.name)), []).append(unit.path)
    return {place: tuple(paths) for place, paths in found.items()}


async def read_addresses(session: AsyncSession, addresses: Iterable[str]) -> dict[str, Outcome]:
    readings = {address: read_address(address) for address in set(addresses)}
    facts = await unit_facts(session, paths_named(list(readings.values())))
    named = communes_named(list(readings.values()))
    if named:
        facts = replace(facts, named=await communes_by_name(session, named))
        facts = replace(facts, communes=facts.communes | {p for paths in facts.named.values() for p in paths})
        facts = replace(facts, current=facts.current | facts.communes)
    return {address: resolve(reading, facts) for address, reading in readings.items()}


async def keep_readings(
    session: AsyncSession, outcomes: dict[uuid.UUID, tuple[str, Outcome]], settled_by: str | None = None
) -> None:
    """Each cadre's latest reading, replacing the one before (a new address is read again)."""
    known = {r.cadre_id: r for part in chunks(list(outcomes)) for r in await session.scalars(queries.readings_of(part))}
    now = clock.now()
    for cadre_id, (address, outcome) in outcomes.items():
        row = known.get(cadre_id) or AddressResolution(cadre_id=cadre_id, address=address, status=outcome.status.value)
        row.address, row.status, row.commune = address, outcome.status.value, outcome.commune
        row.candidates, row.reason = list(outcome.candidates), outcome.reason
        row.latitude, row.longitude, row.resolved_at, row.settled_by = outcome.latitude, outcome.longitude, now, settled_by
        session.add(row)


async def fill_residences(session: AsyncSession, cadres: Sequence[Cadre]) -> None:
    """New cadres (registration, import): the residence unit from the address unless one was given."""
    todo = [c for c in cadres if c.residence_address and c.residence_unit is None]
    if not todo:
        return
    outcomes = await read_addresses(session, (c.residence_address or "" for c in todo))
    for cadre in todo:
        cadre.residence_unit = outcomes[cadre.residence_address or ""].commune
    await keep_readings(session, {c.id: (c.residence_address or "", outcomes[c.residence_address or ""]) for c in todo})


async def residence_of(session: AsyncSession, cadre_id: uuid.UUID, address: str) -> str | None:
    """A changed address (PATCH without a residence unit): today's commune, or None to be settled."""
    outcome = (await read_addresses(session, [address]))[address]
    await keep_readings(session, {cadre_id: (address, outcome)})
    return outcome.commune


async def mark_settled(session: AsyncSession, principal: Principal, cadre: Cadre) -> None:
    """A residence unit set by hand (PATCH) settles whatever the address reading left open."""
    row = await session.get(AddressResolution, cadre.id)
    if row is not None and row.status != AddressStatus.RESOLVED.value:
        row.status, row.commune, row.settled_by = AddressStatus.SETTLED.value, cadre.residence_unit, principal.subject


def _reading(row: AddressResolution, cadre: Cadre) -> AddressReading:
    return AddressReading.model_validate({**row.model_dump(), "full_name": cadre.full_name, "managing_unit": cadre.managing_unit})


async def open_readings(session: AsyncSession, principal: Principal, unit: str | None, page: PageParams) -> Page[AddressReading]:
    total = await session.scalar(queries.count_open(principal, unit)) or 0
    rows = (await session.execute(queries.open_readings(principal, unit, page.offset, page.limit))).all()
    return page_of([_reading(row, cadre) for row, cadre in rows], total, page)


async def _record_residences(
    session: AsyncSession, outbox: Outbox, principal: Principal, moved: Sequence[tuple[Cadre, str | None]], reason: str
) -> None:
    """History lines and events of residence units just set (old values given beside each cadre)."""
    now = clock.now()
    rows = []
    for cadre, old in moved:
        cadre.updated_at = now
        rows += change_rows(
            cadre.id, principal.subject, Operation.UPDATE, {"residence_unit": (old, cadre.residence_unit)}, reason=reason, at=now
        )
    await record_changes(session, rows)
    await session.flush()
    events = [
        OutgoingEvent(
            CadreUpdated(cadre=cadre_snapshot(c), changed_fields=["residence_unit"]),
            str(c.id),
            c.managing_unit,
            ManagementTier(c.tier),
        )
        for c, _ in moved
    ]
    await append_events(session, outbox, events)


async def settle(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, commune: str
) -> AddressReading:
    cadre = await writable_cadre(session, principal, cadre_id)
    facts = await unit_facts(session, [commune])
    if commune not in facts.communes:
        raise Refused("not a commune of today", errors=[field_error("commune", f"no current commune {commune!r}")])
    previous = cadre.residence_unit
    cadre.residence_unit = commune
    outcome = Outcome(AddressStatus.SETTLED, commune, (commune,), "settled by the board")
    await keep_readings(session, {cadre.id: (cadre.residence_address or "", outcome)}, settled_by=principal.subject)
    if previous != commune:
        await _record_residences(session, outbox, principal, [(cadre, previous)], "address settled by the board")
    row = await session.get(AddressResolution, cadre.id)
    assert row is not None  # kept just above
    return _reading(row, cadre)


async def resolve_all(session: AsyncSession, outbox: Outbox, principal: Principal, body: AddressBulkResolve) -> AddressBulkResult:
    """Every address of the caller's writable cadres (under `unit`): residence units empty or no longer current
    (or all, with `reread`) are read again; what resolves is filled, the rest is listed to settle."""
    started = time.perf_counter()
    cadres = list(await session.scalars(queries.cadres_with_address(principal, body.unit)))
    facts = await unit_facts(session, {c.residence_unit for c in cadres if c.residence_unit})
    todo = [c for c in cadres if body.reread or c.residence_unit is None or c.residence_unit not in facts.current]
    settled = {  # the board's choice for an address stands until the address changes (or its commune ends)
        r.cadre_id: r.address
        for part in chunks([c.id for c in todo])
        for r in await session.scalars(queries.readings_of(part))
        if r.status == AddressStatus.SETTLED.value
    }
    todo = [c for c in todo if settled.get(c.id) != c.residence_address or c.residence_unit not in facts.current]
    outcomes = await read_addresses(session, (c.residence_address or "" for c in todo))
    moved: list[tuple[Cadre, str | None]] = []
    for cadre in todo:
        outcome = outcomes[cadre.residence_address or ""]
        if outcome.commune is not None and outcome.commune != cadre.residence_unit:
            moved.append((cadre, cadre.residence_unit))
            cadre.residence_unit = outcome.commune
    await keep_readings(session, {c.id: (c.residence_address or "", outcomes[c.residence_address or ""]) for c in todo})
    await _record_residences(session, outbox, principal, moved, READ_REASON)
    statuses = [outcomes[c.residence_address or ""].status for c in todo]
    return AddressBulkResult(
        examined=len(cadres),
        resolved=len(moved),
        unchanged=len(cadres) - len(moved) - statuses.count(AddressStatus.AMBIGUOUS) - statuses.count(AddressStatus.UNRESOLVED),
        ambiguous=statuses.count(AddressStatus.AMBIGUOUS),
        unresolved=statuses.count(AddressStatus.UNRESOLVED),
        seconds=round(time.perf_counter() - started, 3),
    )
