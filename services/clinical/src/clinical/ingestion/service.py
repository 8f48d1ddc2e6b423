"""HIS ingestion, the one core of every clinical front-end (the JSON interface today): one record or a bulk
of mixed records, answered item by item.

How a request is handled:
1. every item is checked on its own (shape, ICD-10, classification, dates, units, the cadre named
   by card or CCCD, the facility's grants); a refused item changes nothing;
2. the (facility, external id) keys of the request are locked (clinical.heads.lock_records), so that
   the same record posted at once from several connections is created once;
3. the records are read back by (facility, external id) and each item becomes created, existed
   (same content as the current or an earlier version), amended (a new version), or refused;
   records (kinds other than transfer and discharge) go first, so a bulk may carry a discharge
   before its admission;
4. everything is written at the end in a few statements, many rows each (clinical.heads), with one
   outbox event per change (clinical.events).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical import domain, events, heads
from clinical.access import facility_of
from clinical.domain import CadreView, MovementIn, RecordIn
from clinical.heads import Head
from clinical.ingestion import queries
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
from servicekit import clock
from servicekit.errors import field_error
from servicekit.outbox import Outbox

WOULD_WRITE = (ItemOutcome.CREATED, ItemOutcome.AMENDED)
HIS_RECORD: TypeAdapter[Any] = TypeAdapter(HisRecord)


@dataclass
class Parsed:
    """One item of a request, parsed on its own: a malformed item of a bulk is refused while the others go on."""

    index: int
    item: RecordIn | MovementIn | None  # None: refused for `errors`
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
    return parsed(index, item)


def parsed(index: int, item: RecordIn | MovementIn) -> Parsed:
    """An item the request's schema already validated (a single record posted on its own)."""
    external_id = item.admission_external_id if isinstance(item, TransferIn | DischargeIn) else item.external_id
    return Parsed(index, item, item.kind, external_id)


class Ingestion:
    """One HIS request: checks every item, then (unless validate_only) writes what changed."""

    def __init__(self, session: AsyncSession, outbox: Outbox, principal: Principal) -> None:
        self.session = session
        self.outbox = outbox
        self.principal = principal
        self.facility = facility_of(principal)
        self.today = clock.today()  # dates posted by Vietnamese hospitals are Vietnam's dates
        self.now = clock.now()
        self.heads: dict[str, Head] = {}
        self.versions: list[dict[str, Any]] = []
        self.changes: list[events.Change] = []
        self.by_card: dict[str, CadreView] = {}
        self.by_nid: dict[str, CadreView] = {}

    async def run(self, items: Sequence[Parsed], *, store: bool, all_or_nothing: bool = False) -> list[BulkItemResult]:
        valid = [p for p in items if p.item is not None]
        external_ids = {p.external_id for p in valid if p.external_id}
        if store:
            await heads.lock_records(self.session, self.facility, external_ids)
        await self._load(external_ids, [p.item for p in valid if p.item is not None])
        results = {p.index: self._result(p, ItemOutcome.REFUSED, errors=p.errors) for p in items if p.item is None}
        for p in valid:  # records first: a movement of the same bulk applies to its admission
            if not isinstance(p.item, TransferIn | DischargeIn):
                assert p.item is not None
                results[p.index] = await self._record(p, p.item)
        for p in valid:
            if isinstance(p.item, TransferIn | DischargeIn):
                results[p.index] = await self._movement(p, p.item)
        ordered = [results[p.index] for p in items]
        if all_or_nothing and any(r.outcome is ItemOutcome.REFUSED for r in ordered):
            not_stored = {"outcome": ItemOutcome.NOT_STORED, "record": None}
            return [r.model_copy(update=not_stored) if r.outcome in WOULD_WRITE else r for r in ordered]
        if not store:  # validate_only: what would be written does not exist yet
            return [r.model_copy(update={"record": None}) if r.outcome in WOULD_WRITE else r for r in ordered]
        await heads.write(self.session, self.heads.values(), self.versions)
        await events.append_events(self.session, self.outbox, self.changes)
        return ordered

    # ---- reading ----------------------------------------------------------------------------------

    async def _load(self, external_ids: set[str], items: Sequence[RecordIn | MovementIn]) -> None:
        self.heads = await heads.load_heads(self.session, self.facility, external_ids)
        cards = {i.card_number for i in items if i.card_number}
        national_ids = {i.national_id for i in items if i.national_id}
        self.by_card, self.by_nid = await queries.load_cadres(self.session, cards, national_ids)

    async def _earlier_hashes(self, head: Head) -> set[str]:
        if head.earlier_hashes is None:
            head.earlier_hashes = set()
            if not head.new:
                head.earlier_hashes.update(await self.session.scalars(queries.earlier_hashes(head.id)))
        return head.earlier_hashes

    # ---- deciding ---------------------------------------------------------------------------------

    def _result(
        self, p: Parsed, outcome: ItemOutcome, *, head: Head | None = None, errors: list[FieldError] | None = None
    ) -> BulkItemResult:
        # built, not validated: the values come typed from this module (a bulk answers a thousand of these)
        return BulkItemResult.model_construct(
            index=p.index,
            kind=p.kind,
            external_id=p.external_id,
            outcome=outcome,
            record=head.ref() if head else None,
            errors=errors or [],
        )

    def _refuse(self, p: Parsed, loc: list[str | int], msg: str, type_: str) -> BulkItemResult:
        return self._result(p, ItemOutcome.REFUSED, errors=[field_error(loc, msg, type_)])

    def _cadre(self, item: RecordIn) -> tuple[CadreView | None, list[FieldError]]:
        identity = domain.identity_errors(item.card_number, item.national_id)
        if identity:
            return None, identity
        by_card = self.by_card.get(item.card_number or "")
        by_nid = self.by_nid.get(item.national_id or "")
        return domain.cadre_errors(self.principal, item.card_number, item.national_id, by_card, by_nid, item.occurred_on)

    async def _record(self, p: Parsed, item: RecordIn) -> BulkItemResult:
        normalised, errors = domain.normalise_record(item, self.today)
        cadre, identity = self._cadre(item)
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

    async def _movement(self, p: Parsed, item: MovementIn) -> BulkItemResult:
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
            named = self.by_card.get(item.card_number or "") or self.by_nid.get(item.national_id or "")
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

    # ---- changing ---------------------------------------------------------------------------------

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
        self.versions.append(head.version_row(change, self.now, self.principal.subject))
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
        self.versions.append(head.version_row("created", self.now, self.principal.subject))
        self.changes.append(events.recorded(head, summary))
        return head


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
