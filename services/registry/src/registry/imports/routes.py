"""Imports over HTTP: a board's list as the request body (CSV or XLSX)."""

from fastapi import Request

from contracts.api.registry import ImportReport
from registry.callers import CadreWriter
from registry.imports import service
from registry.imports.spreadsheet import XLSX_TYPE
from registry.rules import RulesDep
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])

BODY = {
    "required": True,
    "content": {"text/csv": {"schema": {"type": "string"}}, XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}},
}


@router.post("/cadres/import", response_model=ImportReport, openapi_extra={"requestBody": BODY})
async def import_cadres(
    request: Request,
    caller: CadreWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    rules: RulesDep,
    dry_run: bool = True,
    skip_invalid: bool = False,
) -> ImportReport:
    """A board's list, one row per cadre (CSV in UTF-8, or XLSX). `dry_run` (the default) changes nothing."""
    content = await request.body()
    content_type = request.headers.get("content-type", "text/csv")
    return await service.import_cadres(
        session, runtime.outbox, caller, content, content_type, dry_run=dry_run, skip_invalid=skip_invalid, rules=rules
    )
