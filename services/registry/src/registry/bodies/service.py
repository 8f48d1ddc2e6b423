"""Managing-body use cases: list, open (territorial or not), and close a body (a merge of several, or a
dissolution of one) moving every cadre it manages to another body or unit, all in one transaction."""

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.boards import BodyClosure, BodyClosureResult, ManagingBodyCreate, ManagingBodyPublic
from contracts.enums import CadreStatus, ManagementTier, UnitLevel
from contracts.events.registry import UnitsReorganized
from contracts.scope import Principal
from registry.bodies import queries
from registry.domain import CadreFacts, Operation, may_reorganise, transition_problems
from registry.history import chunks
from registry.moves import Move, apply_moves
from registry.rules import Rules
from registry.tables import Cadre, ManagingBody, Reorganisation, Unit, UnitSuccession
from registry.tiers.service import load_rules, tier_refusal
from registry.transfers.queries import open_period_starts
from registry.units.queries import current_unit_at, known_paths
from registry.units.service import current_unit
from servicekit.errors import Conflict, Forbidden, Refused, field_error
from servicekit.outbox import Outbox


def body_public(body: ManagingBody) -> ManagingBodyPublic:
    return ManagingBodyPublic.model_validate(body, from_attributes=True)


async def list_bodies(session: AsyncSession, under: str | None, all_versions: bool) -> list[ManagingBodyPublic]:
    return [body_public(b) for b in await session.scalars(queries.body_versions(under, all_versions))]


async def _level_of(session: AsyncSession, body: ManagingBodyCreate) -> UnitLevel:
    """A territorial body is its unit's board (the unit's level); any other lives beside the unit tree."""
    if body.kind == "territorial":
        unit = await session.scalar(current_unit_at(body.path))
        if unit is None:
            raise Refused("no such unit", errors=[field_error("path", f"no current unit {body.path!r} for a territorial body")])
        if body.level is not None and body.level.value != unit.level:
            raise Refused("level mismatch", errors=[field_error("level", f"{body.path!r} is a {unit.level}")])
        return UnitLevel(unit.level)
    first = body.path.split(".")[1]
    if first.isdigit():
        raise Refused("a unit's path", errors=[field_error("path", f"{first!r} is a unit code: a non-territorial path is not")])
    if body.path in set(await session.scalars(known_paths().where(Unit.path == body.path))):
        raise Refused("a unit's path", errors=[field_error("path", f"{body.path!r} is an administrative unit's path")])
    return body.level or UnitLevel.PROVINCE


async def create_body(session: AsyncSession, principal: Principal, body: ManagingBodyCreate, rules: Rules) -> ManagingBodyPublic:
    if body.valid_from > rules.today:
        raise Refused("a body is recorded once it exists", errors=[field_error("valid_from", "in the future")])
    level = await _level_of(session, body)
    if level is UnitLevel.NATION:
        raise Refused("the nation's board", errors=[field_error("level", "the central board is the nation's unit")])
    if not may_reorganise(principal, body.path):
        raise Forbidden(f"opening {body.path!r} needs a write grant on it for every tier", code="out_of_scope")
    if await session.scalar(queries.current_body_at(body.path)) is not None:
        raise Conflict(f"a body {body.path!r} exists", code="duplicate_body")
    row = ManagingBody(
        path=body.path,
        name=body.name,
        kind=body.kind,
        level=level.value,
        valid_from=body.valid_from,
        recorded_by=principal.subject,
    )
    session.add(row)
    await session.flush()
    return body_public(row)


async def _closing(session: AsyncSession, principal: Principal, body: BodyClosure) -> tuple[list[ManagingBody], Unit]:
    """The bodies that close and the unit or body their cadres go to, refused if any is not current, or
    beyond the caller (a write grant for every tier on each, as a unit reorganisation takes)."""
    rows = {b.path: b for b in await session.scalars(queries.current_bodies_at(body.bodies).with_for_update())}
    missing = [field_error(["bodies", i], f"no current managing body {p!r}") for i, p in enumerate(body.bodies) if p not in rows]
    if missing:
        raise Refused("unknown managing body", errors=missing)
    late = [p for p, b in rows.items() if b.valid_from > body.effective_date]
    if late:
        raise Refused("a body closes before it began", errors=[field_error("effective_date", f"before the start of {late}")])
    into = await current_unit(session, body.into, "into")
    beyond = [p for p in [*rows, into.path] if not may_reorganise(principal, p)]
    if beyond:
        raise Forbidden(f"closing bodies needs a write grant for every tier on {beyond[:5]}", code="out_of_scope")
    return list(rows.values()), into


async def _problems(session: AsyncSession, cadres: Sequence[Cadre], into: Unit, effective: date, rules: Rules) -> list[str]:
    """Each cadre's reasons not to move: the lifecycle's (a date before its last change) and the tier rules'."""
    last_change: dict[uuid.UUID, date] = {}
    for part in chunks([c.id for c in cadres]):
        last_change.update(dict((await session.execute(open_period_starts(part))).all()))
    tier_rules = await load_rules(session)
    problems: list[str] = []
    for cadre in cadres:
        tier = ManagementTier(cadre.tier)
        if cadre.status in (CadreStatus.DECEASED, CadreStatus.REMOVED):
            continue  # their records follow the body as they are
        facts = CadreFacts(CadreStatus(cadre.status), cadre.date_of_birth, last_change.get(cadre.id, cadre.status_since), tier)
        found = [
            reason
            for _, reason in transition_problems(
                Operation.TRANSFER, facts, effective, today=rules.today, horizon_days=rules.horizon_days
            )
        ]
        if refusal := tier_refusal(tier_rules, into, tier, effective):
            found.append(refusal)
        problems += [f"{cadre.id} ({cadre.full_name}): {reason}" for reason in found]
    return problems


async def close_bodies(
    session: AsyncSession, outbox: Outbox, principal: Principal, body: BodyClosure, rules: Rules
) -> BodyClosureResult:
    effective = body.effective_date
    if effective > rules.today:
        raise Refused("a closure is recorded on or after its date", errors=[field_error("effective_date", "in the future")])
    bodies, into = await _closing(session, principal, body)
    # the cadres of the bodies themselves: a body under one (VN.HDTW.1 under VN.HDTW) is a board of its own
    cadres = list(await session.scalars(queries.cadres_managed_by([b.path for b in bodies]).with_for_update()))
    problems = await _problems(session, cadres, into, effective, rules)
    if problems:
        raise Refused(
            f"{len(problems)} cadres cannot move to {into.path!r}; nothing was changed",
            errors=[field_error("into", p) for p in problems[:100]],
        )
    reorganisation = Reorganisation(
        effective_date=effective, reason=body.reason, operations=[body.model_dump(mode="json")], recorded_by=principal.subject
    )
    session.add(reorganisation)
    for row in bodies:
        row.valid_to, row.successor = effective, into.path
        session.add(
            UnitSuccession(reorganisation_id=reorganisation.id, effective_date=effective, old_path=row.path, new_path=into.path)
        )
    moves = [Move(c, into.path, ManagementTier(c.tier)) for c in cadres]
    moved = await apply_moves(session, outbox, principal, moves, effective, body.reason, reorganisation.id)
    reorganisation.moved_cadres = moved
    await session.flush()
    # the gateway's grants and reporting's successions follow bodies as they follow units; no unit version
    # begins or ends, so a grant on a closed body is never moved onto `into` (gateway.grants.store.remap)
    await outbox.append(
        session,
        UnitsReorganized(
            kind=body.kind,
            effective_date=effective,
            retired_units=[],
            created_units=[],
            mapping={row.path: [into.path] for row in bodies},
            moved_cadres=moved,
            reorganisation_id=reorganisation.id,
            reason=body.reason,
        ),
        subject=into.path,
    )
    return BodyClosureResult(closed=[b.path for b in bodies], into=into.path, effective_date=effective, moved_cadres=moved)
