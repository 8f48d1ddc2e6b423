"""Unit use cases: load a tree of units, list them as of a date, reorganise them (with every cadre they manage),
and the checks other features make against the current units."""

import uuid
from collections.abc import Sequence
from datetime import date

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.registry import Reorganisation as ReorganisationIn
from contracts.api.registry import ReorganisationResult, SplitUnit, UnitPublic
from contracts.enums import CadreStatus, ManagementTier, UnitLevel
from contracts.events.registry import UnitCreated, UnitRenamed, UnitSnapshot, UnitsReorganized
from contracts.scope import Principal
from registry.bodies import queries as body_queries
from registry.domain import may_reorganise
from registry.history import chunks
from registry.moves import Move, apply_moves
from registry.tables import Cadre, ManagingBody, Reorganisation, Unit, UnitSuccession
from registry.tiers.service import load_rules
from registry.units import queries
from registry.units.planner import CadreState, Outcomes, Plan, PlanError, UnitState, plan, snapshot_of
from servicekit import clock
from servicekit.errors import Forbidden, Refused, field_error
from servicekit.outbox import Outbox

CLOSED_RECORDS = frozenset({CadreStatus.DECEASED.value, CadreStatus.REMOVED.value})


async def current_unit(session: AsyncSession, path: str, loc: str = "managing_unit") -> Unit:
    """The current unit at `path`, or the current managing body there (as a transient, unsaved Unit carrying the
    body's level): a cadre's managing unit may name either."""
    unit = await session.scalar(queries.current_unit_at(path))
    if unit is not None:
        return unit
    body = await session.scalar(body_queries.current_body_at(path))
    if body is None:
        raise Refused("unknown managing unit", errors=[field_error(loc, f"no current unit or managing body {path!r}")])
    return body_as_unit(body)


def body_as_unit(body: ManagingBody) -> Unit:
    code = body.path.rsplit(".", 1)[-1]
    parent = body.path.rsplit(".", 1)[0]
    return Unit(path=body.path, code=code, name=body.name, level=body.level, parent_path=parent, valid_from=body.valid_from)


def unit_snapshot(unit: Unit) -> UnitSnapshot:
    return UnitSnapshot.model_validate(unit, from_attributes=True)


async def import_units(session: AsyncSession, outbox: Outbox, units: Sequence[UnitPublic]) -> int:
    """Load a tree of units (parents first); paths that already have a version are left as they are."""
    known = set(await session.scalars(queries.known_paths()))
    created = 0
    for index, item in enumerate(units):
        if item.path in known:
            continue
        try:
            level = UnitLevel(item.level)
        except ValueError:
            raise Refused(
                "unknown unit level", errors=[field_error([index, "level"], f"not one of {[v.value for v in UnitLevel]}")]
            ) from None
        if item.parent_path is not None and item.parent_path not in known:
            raise Refused("unknown parent unit", errors=[field_error([index, "parent_path"], f"no unit {item.parent_path!r}")])
        if item.parent_path is not None and not item.path.startswith(item.parent_path + "."):
            raise Refused(
                "path outside its parent", errors=[field_error([index, "path"], f"must start with {item.parent_path}.")]
            )
        unit = Unit(**item.model_dump(exclude={"level"}), level=level.value)
        session.add(unit)
        known.add(item.path)
        created += 1
        await outbox.append(session, UnitCreated(unit=unit_snapshot(unit)), subject=item.path)
    return created


UNIT_LIST = TypeAdapter(list[UnitPublic])


async def list_units(session: AsyncSession, under: str | None, on: date | None, all_versions: bool = False) -> list[UnitPublic]:
    rows = await session.execute(queries.unit_rows(under, on, all_versions))
    return UNIT_LIST.validate_python(rows.mappings().all())


def _state(unit: Unit) -> UnitState:
    return UnitState(unit.path, unit.code, unit.name, UnitLevel(unit.level), unit.parent_path)


async def _planned(session: AsyncSession, principal: Principal, body: ReorganisationIn, rows: dict[str, Unit]) -> Plan:
    """The plan of the operations on today's units, refused if it cannot apply or touches units beyond the caller."""
    effective = body.effective_date
    split_cadres: dict[str, set[uuid.UUID]] = {}
    for op in body.operations:
        if isinstance(op, SplitUnit):
            split_cadres[op.source] = set(await session.scalars(queries.cadre_ids_managed_by(op.source)))
    try:
        result = plan({p: _state(u) for p, u in rows.items()}, body.operations, split_cadres)
    except PlanError as exc:
        raise Refused("the reorganisation cannot be applied", errors=[field_error(exc.loc, exc.msg)]) from exc
    touched = [u.path for u in result.closed]
    late = {p for p, u in rows.items() if u.valid_from > effective}
    if late_touched := sorted(late & set(touched)):
        raise Refused(
            "a unit changes before it began", errors=[field_error("effective_date", f"before the start of {late_touched}")]
        )
    outside = [p for p in touched if not may_reorganise(principal, p)]
    if outside:
        raise Forbidden(f"reorganising {outside[:5]} needs a write grant on them for every tier", code="out_of_scope")
    return result


async def reorganise(session: AsyncSession, outbox: Outbox, principal: Principal, body: ReorganisationIn) -> ReorganisationResult:
    """All operations, every moved cadre, history and events in one transaction: all or nothing."""
    effective = body.effective_date
    if effective > clock.today():
        raise Refused(
            "a reorganisation is recorded on or after its date", errors=[field_error("effective_date", "in the future")]
        )
    rows = {u.path: u for u in await session.scalars(queries.current_units())}
    result = await _planned(session, principal, body, rows)
    moves = await _moves(session, result, effective)  # refused here, before anything changes
    reorganisation = Reorganisation(
        effective_date=effective,
        reason=body.reason,
        operations=[op.model_dump(mode="json") for op in body.operations],
        recorded_by=principal.subject,
    )
    session.add(reorganisation)
    await _apply_units(session, result, rows, effective)
    await _close_territorial_bodies(session, result, effective)
    moved = await apply_moves(session, outbox, principal, moves, effective, body.reason, reorganisation.id)
    reorganisation.moved_cadres = moved
    for old, news in result.mapping.items():
        for new in news:
            session.add(UnitSuccession(reorganisation_id=reorganisation.id, effective_date=effective, old_path=old, new_path=new))
    await session.flush()
    await _announce(session, outbox, result, rows, reorganisation)
    return ReorganisationResult(
        id=reorganisation.id,
        effective_date=effective,
        retired_units=[u.path for u in result.closed],
        created_units=[u.path for u in result.created],
        mapping=result.mapping,
        moved_cadres=moved,
    )


async def _announce(
    session: AsyncSession, outbox: Outbox, result: Plan, rows: dict[str, Unit], reorganisation: Reorganisation
) -> None:
    """One event per operation (and a rename event for renames), after the units and cadres changed."""
    effective = reorganisation.effective_date
    for record in result.records:
        if record.kind == "rename":
            await outbox.append(
                session,
                UnitRenamed(unit=snapshot_of(record.created[0], effective), previous_name=record.retired[0].name),
                subject=record.subject,
            )
        await outbox.append(
            session,
            UnitsReorganized(
                kind=record.kind,
                effective_date=effective,
                retired_units=[
                    snapshot_of(u, rows[u.path].valid_from if u.path in rows else effective, effective) for u in record.retired
                ],
                created_units=[snapshot_of(u, effective) for u in record.created],
                mapping=record.mapping,
                moved_cadres=reorganisation.moved_cadres,
                reorganisation_id=reorganisation.id,
                reason=reorganisation.reason,
            ),
            subject=record.subject,
        )


async def _apply_units(session: AsyncSession, result: Plan, rows: dict[str, Unit], effective: date) -> None:
    for state in result.closed:
        row = rows[state.path]
        if row.valid_from == effective:  # began the same day: the new version replaces it
            await session.delete(row)
        else:
            row.valid_to = effective
    await session.flush()
    for state in result.created:
        session.add(
            Unit(
                path=state.path,
                code=state.code,
                name=state.name,
                level=state.level.value,
                parent_path=state.parent_path,
                valid_from=effective,
            )
        )
    await session.flush()


async def _cadres_to_move(session: AsyncSession, result: Plan) -> list[Cadre]:
    cadres: list[Cadre] = []
    for part in chunks(sorted(result.forward), 500):
        cadres += list(await session.scalars(queries.cadres_managed_by(part)))
    if result.cadre_overrides:
        known = {c.id for c in cadres}
        overridden = await session.scalars(queries.cadres_with_ids(list(result.cadre_overrides)))
        cadres += [c for c in overridden if c.id not in known]
    return cadres


async def _moves(session: AsyncSession, result: Plan, effective: date) -> list[Move]:
    """Where each cadre the plan touches is managed after it, and with which tier (a dissolved level's re-tier
    mapping); refused, naming every cadre, if one would be left without a current managing unit or with a
    tier its new board may not manage on the effective date."""
    outcomes = Outcomes(result, await load_rules(session), effective)
    moves: list[Move] = []
    problems: list[str] = []
    for cadre in await _cadres_to_move(session, result):
        moved_to = result.cadre_overrides.get(cadre.id) or result.forward.get(cadre.managing_unit)
        if cadre.status in CLOSED_RECORDS:  # no board manages them any more: their records follow the units as they are
            moves.append(Move(cadre, moved_to or cadre.managing_unit, ManagementTier(cadre.tier)))
            continue
        state = CadreState(cadre.id, ManagementTier(cadre.tier), cadre.managing_unit, cadre.residence_unit)
        outcome, problem = outcomes.of(state, moved_to)
        if outcome is not None:
            moves.append(Move(cadre, outcome.unit, outcome.tier))
        else:
            problems.append(f"{cadre.id} ({cadre.full_name}, {cadre.tier} at {cadre.managing_unit}): {problem}")
    if problems:
        raise Refused(
            f"{len(problems)} cadres would be left without a board that may manage them; nothing was changed",
            errors=[field_error("operations", p) for p in problems[:100]],
        )
    return moves


async def _close_territorial_bodies(session: AsyncSession, result: Plan, effective: date) -> None:
    """A unit's board ends with the unit: a territorial body whose path no longer names a current unit closes,
    its successor the path its cadres were moved to (a surviving or renamed unit keeps its board)."""
    gone = [u.path for u in result.closed if u.path not in result.after]
    if not gone:
        return
    for body in await session.scalars(body_queries.current_bodies_at(gone).where(col(ManagingBody.kind) == "territorial")):
        body.valid_to, body.successor = effective, result.forward.get(body.path)
