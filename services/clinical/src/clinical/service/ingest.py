"""HIS ingestion: one record or a bulk of mixed records, answered item by item.

How a request is handled:
1. every item is checked on its own (shape, ICD-10, classification, dates, units, the cadre named
   by card or CCCD, the facility's grants); a refused item changes nothing;
2. on PostgreSQL the (facility, external id) keys of the request are locked (transaction-level
   advisory locks, in sorted order so two requests never deadlock), so that the same record posted
   at once from several connections is created once and the others answer "existed"; on SQLite a
   writing transaction is the only one (BEGIN IMMEDIATE; the writers of a process queue for their
   turn, see servicekit.db);
3. the records are read back by (facility, external id) and each item becomes created, existed
   (same content as the current or an earlier version), amended (a new version), or refused;
   records (kinds other than transfer and discharge) go first, so a bulk may carry a discharge
   before its admission;
4. everything is written at the end in a few statements, many rows each (service/heads.py), with one
   outbox event per change built straight into its JSON (service/events.py).
"""

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from clinical import domain
from clinical.domain import CadreView, MovementIn, RecordIn
from clinical.service import events, heads
from clinical.service.heads import Head
from clinical.tables import ClinicalRecordVersion
from contracts.api.clinical import (
    AdmissionIn,
    BulkItemResult,
    BulkResult,
    DischargeIn,
    HisRecord,
    ItemOutcome,
    RecordStatus,
    TransferIn,
)
from contracts.api.common import FieldError
from contracts.enums import EncounterKind
from contracts.scope import Principal
from servicekit.errors import Forbidden
from servicekit.outbox import Outbox
from servicekit.sql import dialect_name

HIS_RECORD: TypeAdapter[Any] = TypeAdapter(HisRecord)


def facility_of(principal: Principal) -> str:
    if not principal.facility:
        raise Forbidden("only a facility's HIS client posts clinical records", code="not_a_facility")
    return principal.facility


@dataclass
class Parsed:
    index: int
    item: RecordIn | MovementIn | None
    kind: str | None
    external_id: str | None
    errors: list[FieldError] = field(default_factory=list)


def parse_item(index: int, raw: Any) -> Parsed:
    """One bulk item against the HIS record schema; errors located inside the item."""
    kind = raw.get("kind") if isinstance(raw, dict) else None
    external = raw.get("external_id") or raw.get("admission_external_id") if isinstance(raw, dict) else None
    try:
        item = HIS_RECORD.validate_python(raw)
    except ValidationError as exc:
        errors = []
        for problem in exc.errors():
            loc = list(problem.get("loc", ()))
            if loc and loc[0] == kind:  # the discriminator's tag pydantic puts first
                loc = loc[1:]
            errors.append(
                FieldError(loc=[p if isinstance(p, int) else str(p) for p in loc], msg=str(problem["msg"]), type=problem["type"])
            )
        return Parsed(index, None, str(kind) if kind else None, str(external) if external else None, errors)
    return Parsed(index, item, item.kind, _external_id(item))


def parsed(index: int, item: RecordIn | MovementIn) -> Parsed:
    return Parsed(index, item, item.kind, _external_id(item))


def _external_id(item: RecordIn | MovementIn) -> str:
    return item.admission_external_id if isinstance(item, TransferIn | DischargeIn) else item.external_id


def _lock_key(facility: str, external_id: str) -> int:
    digest = hashlib.blake2b(f"clinical:{facility}\x00{external_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Ingestion:
    """One HIS request: checks every item, then (unless validate_only) writes what changed."""

    def __init__(self, session: AsyncSession, outbox: Outbox, principal: Principal, *, today: date | None = None) -> None:
        self.session = session
        self.outbox = outbox
        self.principal = principal
        self.facility = facility_of(principal)
        self.today = today or domain.today_in_vietnam()
        self.now = datetime.now(UTC)
        self.heads: dict[str, Head] = {}
        self.versions: list[dict[str, Any]] = []
        self.changes: list[events.Change] = []

    async def run(self, items: Sequence[Parsed], *, store: bool, all_or_nothing: bool = False) -> list[BulkItemResult]:
        valid = [p for p in items if p.item is not None]
        if store:
            await self._lock(sorted({p.external_id for p in valid if p.external_id}))
        self.heads = await heads.load_heads(self.session, self.facility, {p.external_id for p in valid if p.external_id})
        named = [p.item for p in valid if p.item is not None]
        cadres_by_card, cadres_by_nid = await heads.load_cadres(
            self.session, {i.card_number for i in named if i.card_number}, {i.national_id for i in named if i.national_id}
        )
        results: dict[int, BulkItemResult] = {}
        for p in items:
            if p.item is None:
                results[p.index] = self._result(p, ItemOutcome.REFUSED, errors=p.errors)
        records = [p for p in valid if not isinstance(p.item, TransferIn | DischargeIn)]
        movements = [p for p in valid if isinstance(p.item, TransferIn | DischargeIn)]
        for p in records:
            assert p.item is not None and not isinstance(p.item, TransferIn | DischargeIn)
            results[p.index] = await self._record(p, p.item, cadres_by_card, cadres_by_nid)
        for p in movements:
            assert isinstance(p.item, TransferIn | DischargeIn)
            results[p.index] = await self._movement(p, p.item, cadres_by_card, cadres_by_nid)
        ordered = [results[p.index] for p in items]
        refused = any(r.outcome is ItemOutcome.REFUSED for r in ordered)
        would_write = (ItemOutcome.CREATED, ItemOutcome.AMENDED)
        if all_or_nothing and refused:
            return [
                r.model_copy(update={"outcome": ItemOutcome.NOT_STORED, "record": None}) if r.outcome in would_write else r
                for r in ordered
            ]
        if not store:  # validate_only: what would be written does not exist yet
            return [r.model_copy(update={"record": None}) if r.outcome in would_write else r for r in ordered]
        await self._write()
        return ordered

    # ---- reading ----------------------------------------------------------------------------------

    async def _lock(self, external_ids: list[str]) -> None:
        if not external_ids or dialect_name(self.session) != "postgresql":
            return  # SQLite: BEGIN IMMEDIATE already made this transaction the only writer
        keys = sorted({_lock_key(self.facility, e) for e in external_ids})
        await self.session.execute(
            text("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS s"),
            {"keys": keys},
        )

    async def _earlier_hashes(self, head: Head) -> set[str]:
        if head.earlier_hashes is None:
            head.earlier_hashes = set()
            if not head.new:
                rows = await self.session.scalars(
                    select(col(ClinicalRecordVersion.body_hash)).where(col(ClinicalRecordVersion.record_id) == head.id)
                )
                head.earlier_hashes.update(rows)
        return head.earlier_hashes

    # ---- deciding ---------------------------------------------------------------------------------

    def _result(
        self, p: Parsed, outcome: ItemOutcome, *, head: Head | None = None, errors: list[FieldError] | None = None
    ) -> BulkItemResult:
        return BulkItemResult(
            index=p.index,
            kind=p.kind,
            external_id=p.external_id,
            outcome=outcome,
            record=head.ref() if head else None,
            errors=errors or [],
        )

    def _refuse(self, p: Parsed, loc: list[str | int], msg: str, type_: str) -> BulkItemResult:
        return self._result(p, ItemOutcome.REFUSED, errors=[domain.error(loc, msg, type_)])

    async def _record(
        self, p: Parsed, item: RecordIn, by_card: dict[str, CadreView], by_nid: dict[str, CadreView]
    ) -> BulkItemResult:
        normalised, errors = domain.normalise_record(item, self.today)
        identity = domain.identity_errors(item.card_number, item.national_id)
        cadre = None
        if not identity:
            cadre, identity = domain.cadre_errors(
                self.principal,
                item.card_number,
                item.national_id,
                by_card.get(item.card_number or ""),
                by_nid.get(item.national_id or ""),
                item.occurred_on,
            )
        errors += identity
        if errors:
            return self._result(p, ItemOutcome.REFUSED, errors=errors)
        assert cadre is not None
        body = domain.body_of(normalised)
        canonical = domain.canonical_json(body)
        head = self.heads.get(item.external_id)
        if head is None:
            head = self._create(item.kind, item.external_id, cadre, body, canonical)
            return self._result(p, ItemOutcome.CREATED, head=head)
        if head.status == RecordStatus.WITHDRAWN:
            return self._refuse(
                p, ["external_id"], "this record was withdrawn; post a correction under a new external_id", "record_withdrawn"
            )
        if head.kind != item.kind:
            return self._refuse(
                p, ["external_id"], f"this external_id names a {head.kind} record, not a {item.kind}", "kind_mismatch"
            )
        if head.cadre_id != cadre.cadre_id:
            return self._refuse(
                p,
                ["card_number" if item.card_number else "national_id"],
                "this record belongs to another cadre: withdraw it and post the right one under a new external_id",
                "cadre_mismatch",
            )
        return await self._change(p, head, body, canonical, "correction")

    async def _movement(
        self, p: Parsed, item: MovementIn, by_card: dict[str, CadreView], by_nid: dict[str, CadreView]
    ) -> BulkItemResult:
        head = self.heads.get(item.admission_external_id)
        if head is None:
            return self._refuse(
                p,
                ["admission_external_id"],
                f"no admission {item.admission_external_id!r} from this facility: post the admission first (or in the same bulk)",
                "admission_unknown",
            )
        if head.kind != EncounterKind.ADMISSION:
            return self._refuse(
                p,
                ["admission_external_id"],
                f"{item.admission_external_id!r} is a {head.kind} record, not an admission",
                "kind_mismatch",
            )
        if head.status == RecordStatus.WITHDRAWN:
            return self._refuse(p, ["admission_external_id"], "this admission was withdrawn", "record_withdrawn")
        if item.card_number or item.national_id:
            named = by_card.get(item.card_number or "") or by_nid.get(item.national_id or "")
            if named is None or named.cadre_id != head.cadre_id:
                field_name = "card_number" if item.card_number else "national_id"
                return self._refuse(
                    p, [field_name], "the admission belongs to another cadre than the one named here", "cadre_mismatch"
                )
        admission = AdmissionIn.model_validate(head.body)
        changed, errors = domain.apply_movement(admission, item, self.today)
        if errors:
            return self._result(p, ItemOutcome.REFUSED, errors=errors)
        body = domain.body_of(changed)
        return await self._change(p, head, body, domain.canonical_json(body), item.kind)

    async def _change(self, p: Parsed, head: Head, body: dict[str, Any], canonical: str, change: str) -> BulkItemResult:
        digest = domain.hash_of(canonical)
        if digest == head.body_hash or digest in await self._earlier_hashes(head):
            return self._result(p, ItemOutcome.EXISTED, head=head)  # a repeat, or a late retry of an earlier version
        previous = head.version
        summary = domain.summarise(head.kind, body)
        head.version += 1
        head.body, head.body_hash, head.body_json = body, digest, canonical
        head.occurred_on, head.ended_on = summary.occurred_on, summary.ended_on
        head.updated_at = self.now
        head.dirty = True
        assert head.earlier_hashes is not None
        head.earlier_hashes.add(digest)
        self._version(head, change)
        self.changes.append(events.amended(head, summary, previous, change))
        return self._result(p, ItemOutcome.AMENDED, head=head)

    def _create(self, kind: str, external_id: str, cadre: CadreView, body: dict[str, Any], canonical: str) -> Head:
        summary = domain.summarise(kind, body)
        digest = domain.hash_of(canonical)
        head = Head(
            id=uuid.uuid4(),
            facility=self.facility,
            external_id=external_id,
            kind=kind,
            cadre_id=cadre.cadre_id,
            managing_unit=cadre.managing_unit,
            tier=cadre.tier,
            version=1,
            status=RecordStatus.CURRENT.value,
            occurred_on=summary.occurred_on,
            ended_on=summary.ended_on,
            body=body,
            body_hash=digest,
            withdrawn_reason=None,
            recorded_at=self.now,
            updated_at=self.now,
            new=True,
            earlier_hashes={digest},
            body_json=canonical,
        )
        self.heads[external_id] = head
        self._version(head, "created")
        self.changes.append(events.recorded(head, summary))
        return head

    def _version(self, head: Head, change: str) -> None:
        self.versions.append(
            {
                "record_id": head.id,
                "version": head.version,
                "change": change,
                "body_json": head.body_json,
                "body_hash": head.body_hash,
                "recorded_at": self.now,
                "recorded_by": self.principal.subject,
            }
        )

    # ---- writing ----------------------------------------------------------------------------------

    async def _write(self) -> None:
        await heads.write(self.session, self.heads.values(), self.versions)
        await events.append_events(self.session, self.outbox, self.changes)

    # ---- withdrawal -------------------------------------------------------------------------------

    async def withdraw(self, external_id: str, reason: str) -> tuple[ItemOutcome, Head] | None:
        await self._lock([external_id])
        self.heads = await heads.load_heads(self.session, self.facility, {external_id})
        head = self.heads.get(external_id)
        if head is None:
            return None
        if head.status == RecordStatus.WITHDRAWN:
            return ItemOutcome.EXISTED, head
        head.version += 1
        head.status = RecordStatus.WITHDRAWN.value
        head.withdrawn_reason = reason
        head.updated_at = self.now
        head.dirty = True
        head.body_json = domain.canonical_json(head.body)
        self._version(head, "withdrawn")
        self.changes.append(events.withdrawn(head, domain.summarise(head.kind, head.body), reason))
        await self._write()
        return ItemOutcome.WITHDRAWN, head


def counts_of(results: list[BulkItemResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome.value] = counts.get(r.outcome.value, 0) + 1
    return counts


def bulk_result(results: list[BulkItemResult], *, validate_only: bool, all_or_nothing: bool) -> BulkResult:
    stored = not validate_only and any(r.outcome in (ItemOutcome.CREATED, ItemOutcome.AMENDED) for r in results)
    return BulkResult(
        validate_only=validate_only, all_or_nothing=all_or_nothing, stored=stored, counts=counts_of(results), items=results
    )
