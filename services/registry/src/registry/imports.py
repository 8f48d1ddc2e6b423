"""Importing a board's list (CSV or XLSX): a dry run reports every row's problems; the import is all or nothing
unless the caller asks to skip invalid rows, and then the report names exactly the rows skipped."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.api.common import FieldError
from contracts.api.registry import CadreCreate, ImportReport, ImportRow
from contracts.enums import Action, UnitLevel
from contracts.scope import Principal
from registry.domain import fold_name, name_fields, national_id_problems, registration_problems, tier_allowed
from registry.history import chunks
from registry.service import Rules, after_registration, in_scope
from registry.spreadsheet import UnreadableFile, read_rows
from registry.tables import Cadre, Unit
from servicekit.errors import Refused, field_error
from servicekit.outbox import Outbox
from servicekit.sql import table_of

MAX_ROWS = 50_000


def _errors(exc: ValidationError) -> list[FieldError]:
    return [
        FieldError(loc=[str(p) for p in e["loc"]] or ["row"], msg=e["msg"], type=e["type"]) for e in exc.errors(include_url=False)
    ]


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
    try:
        raw_rows = read_rows(content, content_type)
    except UnreadableFile as exc:
        raise Refused("unreadable file", errors=[field_error("body", str(exc))]) from exc
    if len(raw_rows) > MAX_ROWS:
        raise Refused("file too large", errors=[field_error("body", f"at most {MAX_ROWS} rows per import")])
    numbered = [(index + 2, row) for index, row in enumerate(raw_rows) if row]  # line 1 is the header
    levels = {u.path: UnitLevel(u.level) for u in await session.scalars(select(Unit).where(col(Unit.valid_to).is_(None)))}
    ids = [str(row.get("national_id")) for _, row in numbered if row.get("national_id")]
    known_ids: dict[str, Any] = {}
    for part in chunks(ids):
        known_ids.update(
            dict((await session.execute(select(Cadre.national_id, Cadre.id).where(col(Cadre.national_id).in_(part)))).all())
        )
    visible: set[uuid.UUID] = set()
    for part in chunks(list(known_ids.values())):
        visible.update(await session.scalars(select(Cadre.id).where(col(Cadre.id).in_(part), in_scope(principal))))

    reports: list[ImportRow] = []
    valid: list[tuple[int, CadreCreate]] = []
    seen: dict[str, int] = {}
    for line, row in numbered:
        problems: list[FieldError] = []
        try:
            data = CadreCreate.model_validate(row)
        except ValidationError as exc:
            reports.append(ImportRow(row=line, errors=_errors(exc)))
            continue
        since = data.status_since or rules.today
        found = national_id_problems(data.national_id, data.date_of_birth, data.sex)
        found += registration_problems(data.status, since, data.date_of_birth, today=rules.today, horizon_days=rules.horizon_days)
        level = levels.get(data.managing_unit)
        if level is None:
            found.append(("managing_unit", f"no current unit {data.managing_unit!r}"))
        elif not tier_allowed(level, data.tier):
            found.append(("tier", f"a {level.value} board does not manage tier {data.tier.value!r}"))
        elif not principal.may(Action.WRITE, data.managing_unit, data.tier):
            found.append(("managing_unit", "outside your write scope"))
        if data.national_id in known_ids:
            existing = known_ids[data.national_id]
            pointer = f" (existing record {existing})" if existing in visible else ""
            found.append(("national_id", f"already registered{pointer}"))
        elif data.national_id in seen:
            found.append(("national_id", f"the same national ID as row {seen[data.national_id]}"))
        seen.setdefault(data.national_id, line)
        problems = [field_error(name, reason) for name, reason in found]
        if problems:
            reports.append(ImportRow(row=line, errors=problems))
        else:
            valid.append((line, data))

    await _warn_likely_duplicates(session, valid, reports)
    invalid_rows = sorted(r.row for r in reports if r.errors)
    report = ImportReport(
        dry_run=dry_run,
        total_rows=len(numbered),
        valid_rows=len(valid),
        imported=0,
        skipped_rows=invalid_rows if skip_invalid else [],
        rows=sorted(reports, key=lambda r: r.row),
    )
    if dry_run:
        return report
    if invalid_rows and not skip_invalid:
        raise Refused(
            f"{len(invalid_rows)} of {len(numbered)} rows are invalid; nothing was imported",
            errors=[field_error([r.row, *e.loc], e.msg, e.type) for r in report.rows for e in r.errors][:500],
            code="import_refused",
        )
    cadres = await _insert(session, [data for _, data in valid], rules)
    await after_registration(session, outbox, principal, cadres)
    report.imported = len(cadres)
    return report


async def _warn_likely_duplicates(
    session: AsyncSession, valid: Sequence[tuple[int, CadreCreate]], reports: list[ImportRow]
) -> None:
    """Same folded name and date of birth as a registered cadre or an earlier row: a warning, not an error."""
    keys = {(fold_name(d.full_name), d.date_of_birth) for _, d in valid}
    existing: set[tuple[str, Any]] = set()
    for part in chunks(sorted(keys, key=str), 2000):
        rows = await session.execute(
            select(col(Cadre.name_folded), col(Cadre.date_of_birth)).where(
                tuple_(col(Cadre.name_folded), col(Cadre.date_of_birth)).in_(list(part))
            )
        )
        existing.update((name, born) for name, born in rows)
    first: dict[tuple[str, Any], int] = {}
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


async def _insert(session: AsyncSession, rows: Sequence[CadreCreate], rules: Rules) -> list[Cadre]:
    now = datetime.now(UTC)
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
    columns = [c.name for c in table_of(Cadre).columns]
    for part in chunks(cadres, 2000):
        await session.execute(insert(table_of(Cadre)), [{name: getattr(c, name) for name in columns} for c in part])
    return cadres
