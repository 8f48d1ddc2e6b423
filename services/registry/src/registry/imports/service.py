"""Importing a board's list (CSV or XLSX): a dry run reports every row's problems; the import is all or nothing
unless the caller asks to skip invalid rows, and then the report names exactly the rows skipped."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.common import FieldError
from contracts.api.registry import CadreCreate, ImportReport, ImportRow
from contracts.enums import Action, UnitLevel
from contracts.scope import Principal
from registry.addresses.service import fill_residences, read_addresses
from registry.bodies.queries import current_bodies
from registry.cadres.service import after_registration
from registry.domain import (
    Problem,
    TierRule,
    fold_name,
    name_fields,
    national_id_problems,
    province_of,
    registration_problems,
    tier_problem,
)
from registry.history import chunks
from registry.imports import queries
from registry.imports.spreadsheet import UnreadableFile, read_rows
from registry.rules import Rules
from registry.tables import Cadre
from registry.tiers.service import load_rules
from registry.units.queries import current_units
from servicekit import clock
from servicekit.errors import Refused, field_error
from servicekit.outbox import Outbox
from servicekit.scope import may
from servicekit.sql import table_of

MAX_ROWS = 50_000

Numbered = list[tuple[int, dict[str, Any]]]  # (line in the file, row)


@dataclass
class Known:
    """What the rows are checked against: today's units, the CCCDs already registered, which of those the caller sees."""

    levels: dict[str, UnitLevel]  # of today's units and managing bodies
    national_ids: dict[str, uuid.UUID]
    visible: set[uuid.UUID]
    tier_rules: tuple[TierRule, ...] = ()


@dataclass
class Checked:
    reports: list[ImportRow] = field(default_factory=list)
    valid: list[tuple[int, CadreCreate]] = field(default_factory=list)


def _errors(exc: ValidationError) -> list[FieldError]:
    return [
        FieldError(loc=[str(p) for p in e["loc"]] or ["row"], msg=e["msg"], type=e["type"]) for e in exc.errors(include_url=False)
    ]


def _numbered_rows(content: bytes, content_type: str) -> Numbered:
    try:
        raw_rows = read_rows(content, content_type)
    except UnreadableFile as exc:
        raise Refused("unreadable file", errors=[field_error("body", str(exc))]) from exc
    if len(raw_rows) > MAX_ROWS:
        raise Refused("file too large", errors=[field_error("body", f"at most {MAX_ROWS} rows per import")])
    return [(index + 2, row) for index, row in enumerate(raw_rows) if row]  # line 1 is the header


async def _known(session: AsyncSession, principal: Principal, numbered: Numbered) -> Known:
    levels = {u.path: UnitLevel(u.level) for u in await session.scalars(current_units())}
    levels.update({b.path: UnitLevel(b.level) for b in await session.scalars(current_bodies())})
    ids = [str(row.get("national_id")) for _, row in numbered if row.get("national_id")]
    national_ids: dict[str, uuid.UUID] = {}
    for part in chunks(ids):
        national_ids.update(dict((await session.execute(queries.registered_national_ids(part))).all()))
    visible: set[uuid.UUID] = set()
    for part in chunks(list(national_ids.values())):
        visible.update(await session.scalars(queries.visible_among(principal, part)))
    return Known(levels, national_ids, visible, await load_rules(session))


def _tier_problem(data: CadreCreate, level: UnitLevel, known: Known, since: date) -> str | None:
    province = None if level is UnitLevel.NATION else province_of(data.managing_unit)
    return tier_problem(known.tier_rules, level, data.tier, province, since)


def _row_problems(data: CadreCreate, known: Known, principal: Principal, rules: Rules) -> list[Problem]:
    since = data.status_since or rules.today
    found = national_id_problems(data.national_id, data.date_of_birth, data.sex)
    found += registration_problems(data.status, since, data.date_of_birth, today=rules.today, horizon_days=rules.horizon_days)
    level = known.levels.get(data.managing_unit)
    if level is None:
        found.append(("managing_unit", f"no current unit {data.managing_unit!r}"))
    elif problem := _tier_problem(data, level, known, since):
        found.append(("tier", problem))
    elif not may(principal, Action.WRITE, data.managing_unit, data.tier):
        found.append(("managing_unit", "outside your write scope"))
    if data.national_id in known.national_ids:
        existing = known.national_ids[data.national_id]
        pointer = f" (existing record {existing})" if existing in known.visible else ""
        found.append(("national_id", f"already registered{pointer}"))
    return found


def _check(numbered: Numbered, known: Known, principal: Principal, rules: Rules) -> Checked:
    checked = Checked()
    seen: dict[str, int] = {}
    for line, row in numbered:
        try:
            data = CadreCreate.model_validate(row)
        except ValidationError as exc:
            checked.reports.append(ImportRow(row=line, errors=_errors(exc)))
            continue
        found = _row_problems(data, known, principal, rules)
        if data.national_id not in known.national_ids and data.national_id in seen:
            found.append(("national_id", f"the same national ID as row {seen[data.national_id]}"))
        seen.setdefault(data.national_id, line)
        if found:
            checked.reports.append(ImportRow(row=line, errors=[field_error(name, reason) for name, reason in found]))
        else:
            checked.valid.append((line, data))
    return checked


async def import_cadres(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    content: bytes,
    content_type: str,
    *,
    dry_run: bool,
    skip_invalid: bool,
    rules: Rules,
) -> ImportReport:
    numbered = _numbered_rows(content, content_type)
    checked = _check(numbered, await _known(session, principal, numbered), principal, rules)
    await _warn_likely_duplicates(session, checked.valid, checked.reports)
    await _warn_unread_addresses(session, checked.valid, checked.reports)
    invalid_rows = sorted(r.row for r in checked.reports if r.errors)
    report = ImportReport(
        dry_run=dry_run,
        total_rows=len(numbered),
        valid_rows=len(checked.valid),
        imported=0,
        skipped_rows=invalid_rows if skip_invalid else [],
        rows=sorted(checked.reports, key=lambda r: r.row),
    )
    if dry_run:
        return report
    if invalid_rows and not skip_invalid:
        raise Refused(
            f"{len(invalid_rows)} of {len(numbered)} rows are invalid; nothing was imported",
            errors=[field_error([r.row, *e.loc], e.msg, e.type) for r in report.rows for e in r.errors][:500],
            code="import_refused",
        )
    cadres = await _insert(session, [data for _, data in checked.valid], rules)
    await after_registration(session, outbox, principal, cadres)
    report.imported = len(cadres)
    return report


async def _warn_likely_duplicates(
    session: AsyncSession, valid: Sequence[tuple[int, CadreCreate]], reports: list[ImportRow]
) -> None:
    """Same folded name and date of birth as a registered cadre or an earlier row: a warning, not an error."""
    keys = {(fold_name(d.full_name), d.date_of_birth) for _, d in valid}
    existing: set[tuple[str, date]] = set()
    for part in chunks(sorted(keys, key=str), 2000):
        existing.update(await session.execute(queries.registered_names_and_births(list(part))))
    first: dict[tuple[str, date], int] = {}
    by_row = {r.row: r for r in reports}
    for line, data in valid:
        key = (fold_name(data.full_name), data.date_of_birth)
        warning = None
        if key in existing:
            warning = "a registered cadre has the same name and date of birth: likely a duplicate"
        elif key in first:
            warning = f"row {first[key]} has the same name and date of birth: likely a duplicate"
        first.setdefault(key, line)
        if warning:
            if line not in by_row:
                by_row[line] = ImportRow(row=line)
                reports.append(by_row[line])
            by_row[line].warnings.append(warning)


def _warn(reports: list[ImportRow], line: int, warning: str) -> None:
    row = next((r for r in reports if r.row == line), None)
    if row is None:
        row = ImportRow(row=line)
        reports.append(row)
    row.warnings.append(warning)


async def _warn_unread_addresses(
    session: AsyncSession, valid: Sequence[tuple[int, CadreCreate]], reports: list[ImportRow]
) -> None:
    """A residence address that maps to no single commune of today: a warning (the board settles it later)."""
    to_read = [(line, d.residence_address) for line, d in valid if d.residence_address and d.residence_unit is None]
    outcomes = await read_addresses(session, (address for _, address in to_read))
    for line, address in to_read:
        outcome = outcomes[address]
        if outcome.commune is None:
            _warn(reports, line, f"residence address not read to a commune ({outcome.reason}): to settle after the import")


async def _insert(session: AsyncSession, rows: Sequence[CadreCreate], rules: Rules) -> list[Cadre]:
    now = clock.now()
    cadres = [
        Cadre(
            **data.model_dump(exclude={"status_since"}),
            **name_fields(data.full_name),
            status_since=data.status_since or rules.today,
            created_at=now,
            updated_at=now,
        )
        for data in rows
    ]
    await fill_residences(session, cadres)  # a residence unit given in the file wins over the address
    columns = [c.name for c in table_of(Cadre).columns]
    cadres_table = table_of(Cadre)
    for part in chunks(cadres, 2000):
        await session.execute(insert(cadres_table), [{name: getattr(c, name) for name in columns} for c in part])
    return cadres
