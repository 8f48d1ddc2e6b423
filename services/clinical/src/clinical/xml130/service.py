"""QĐ 130 uploads through the one ingestion core (clinical.ingestion.service.Ingestion).

How an upload is handled:
1. each envelope is parsed on its own (clinical.xml130.parsing); its MACSKCB must be the client's
   facility code and its signature is checked as the facility's setting says (clinical.xml130.signature);
   a problem refuses the envelope's encounters, or the one encounter it is in;
2. the encounters' keys (facility, MA_LK) are locked as the core locks them, then the tables stored
   earlier for the same MA_LK are merged under this upload's (tables of one MA_LK may come apart);
3. the patient is matched on SO_CCCD, else MA_THE_BHYT; not a cadre: counted, nothing kept, no record;
4. the tables become the core's commands (clinical.xml130.mapping); an encounter giving two records
   (a visit and its referral) is first checked without storing, so that it is stored whole or not at all;
5. the core stores the records (created, existed, amended); the files of cadres' encounters are kept,
   compressed, a new version only for a table whose content changed.
"""

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clinical import heads
from clinical.access import facility_of
from clinical.domain import CadreView
from clinical.ingestion.service import Ingestion, Parsed, parse_item
from clinical.settings import ClinicalSettings
from clinical.xml130 import mapping, queries, signature
from clinical.xml130.parsing import Encounter, Envelope, Row, XmlProblem, parse_document, parse_envelope, read_table
from clinical.xml130.tables import READ
from contracts.api.clinical import BulkItemResult, ItemOutcome
from contracts.api.common import FieldError
from contracts.api.xml130 import Xml130Item, Xml130Outcome, Xml130Result
from contracts.scope import Principal
from servicekit import clock
from servicekit.errors import field_error
from servicekit.outbox import Outbox

Identity = tuple[str | None, list[str]]  # (SO_CCCD, codes of MA_THE_BHYT)
CORE_OUTCOME = {ItemOutcome.CREATED: Xml130Outcome.CREATED, ItemOutcome.EXISTED: Xml130Outcome.EXISTED}


@dataclass
class Stored:
    """The latest stored version of each table of one encounter."""

    versions: dict[str, int] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Pending:
    """An encounter whose envelope passed: waiting for its cadre and the core."""

    item: Xml130Item
    encounter: Encounter
    ma_cskcb: str
    envelope: Envelope
    verdict: str
    tables: dict[str, list[Row]] = field(default_factory=dict)
    cadre: CadreView | None = None
    mapped: mapping.Mapped | None = None
    parsed: list[Parsed] = field(default_factory=list)


def _problem_error(problem: XmlProblem) -> FieldError:
    return field_error([problem.where], problem.msg, problem.type)


class Xml130Ingestion:
    def __init__(self, session: AsyncSession, outbox: Outbox, principal: Principal, settings: ClinicalSettings) -> None:
        self.session, self.outbox, self.principal = session, outbox, principal
        self.facility = facility_of(principal)
        self.config = settings.xml130_facility(self.facility)
        path = self.config.certificate_file
        self.certificate = signature.load_certificate(path) if path is not None else None
        self.today = clock.today()
        self.items: list[Xml130Item] = []
        self.pending: list[Pending] = []
        self.check_ins: list[tuple[Xml130Item, Row]] = []

    async def run(self, uploads: Sequence[tuple[str | None, bytes]]) -> Xml130Result:
        for position, (name, data) in enumerate(uploads):
            self._envelope(position, name, data)
        ma_lks = {p.encounter.ma_lk for p in self.pending if p.encounter.ma_lk}
        keys = {key for ma_lk in ma_lks for key in (ma_lk, ma_lk + mapping.REFERRAL_SUFFIX)}
        await heads.lock_records(self.session, self.facility, keys)  # the core takes the same keys again: held already
        stored = await self._stored(ma_lks)
        self._merge(stored)
        await self._match()
        await self._ingest()
        await self._keep_files(stored)
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.outcome.value] = counts.get(item.outcome.value, 0) + 1
        return Xml130Result(envelopes=len(uploads), counts=counts, items=self.items)

    # ---- 1. envelopes ------------------------------------------------------------------------------

    def _add(self, **values: Any) -> Xml130Item:
        item = Xml130Item(**values)
        self.items.append(item)
        return item

    def _envelope(self, position: int, name: str | None, data: bytes) -> None:
        try:
            envelope = parse_envelope(data)
        except XmlProblem as problem:
            self._add(envelope=position, file=name, outcome=Xml130Outcome.REFUSED, errors=[_problem_error(problem)])
            return
        refusal: FieldError | None = None
        if envelope.ma_cskcb != self.config.ma_cskcb:
            where = "THONGTINDONVI/MACSKCB" if envelope.kind == "GIAMDINHHS" else "MA_CSKCB"
            msg = f"{envelope.ma_cskcb!r} is not this client's facility ({self.config.ma_cskcb!r})"
            refusal = field_error([where], msg, "facility_mismatch")
        verdict = signature.verify(data, envelope.signed, self.certificate, bool(self.config.signature_required))
        if refusal is None and verdict.status == "invalid":
            refusal = field_error(["CHUKYDONVI"], verdict.reason or "invalid signature", "signature_invalid")
        base = {"envelope": position, "file": name, "ma_cskcb": envelope.ma_cskcb}
        for index, row in enumerate(envelope.check_ins):
            item = self._add(**base, encounter=index, ma_lk=row.get("MA_LK"), tables=["XML0"], outcome=Xml130Outcome.CHECKED_IN)
            if refusal is not None:
                item.outcome, item.errors = Xml130Outcome.REFUSED, [refusal]
            else:
                self.check_ins.append((item, row))
        for encounter in envelope.encounters:
            item = self._add(
                **base,
                encounter=encounter.position,
                ma_lk=encounter.ma_lk,
                tables=sorted(encounter.tables, key=_table_order),
                ignored=encounter.ignored,
                outcome=Xml130Outcome.REFUSED,
            )
            error = _problem_error(encounter.problem) if encounter.problem else refusal
            if error is not None:
                item.errors = [error]
            else:
                self.pending.append(Pending(item, encounter, envelope.ma_cskcb or "", envelope, verdict.status))

    # ---- 2. what was stored before -------------------------------------------------------------------

    async def _stored(self, ma_lks: set[str]) -> dict[str, Stored]:
        stored: dict[str, Stored] = {}
        if not ma_lks:
            return stored
        for row in await self.session.execute(queries.stored_files(self.facility, ma_lks)):
            entry = stored.setdefault(row.ma_lk, Stored())
            entry.versions[row.table_name] = row.version
            entry.hashes[row.table_name] = row.sha256
            entry.contents[row.table_name] = row.content
        return stored

    def _merge(self, stored: dict[str, Stored]) -> None:
        seen: set[str] = set()
        for p in list(self.pending):
            ma_lk = p.encounter.ma_lk or ""
            if ma_lk in seen:
                self._refuse(p, [field_error(["MA_LK"], f"MA_LK {ma_lk!r} twice in one upload", "ma_lk_repeated")])
                continue
            seen.add(ma_lk)
            earlier = stored.get(ma_lk, Stored())
            try:
                for name, content in earlier.contents.items():
                    if name not in p.encounter.tables:
                        p.tables[name] = read_table(READ[name], parse_document(zlib.decompress(content), name))[0]
            except XmlProblem as problem:  # a file stored by an earlier version of this importer
                self._refuse(p, [_problem_error(problem)])
                continue
            p.tables |= {name: table.rows for name, table in p.encounter.tables.items()}
            if "XML1" not in p.tables:
                msg = f"no XML1 for MA_LK {ma_lk!r} yet: send XML1 first, or with the other tables"
                self._refuse(p, [field_error(["XML1"], msg, "table_missing")])

    def _refuse(self, p: Pending, errors: list[FieldError]) -> None:
        p.item.outcome, p.item.errors = Xml130Outcome.REFUSED, errors
        self.pending.remove(p)

    # ---- 3. which cadre ----------------------------------------------------------------------------

    async def _match(self) -> None:
        """SO_CCCD first, else each code of MA_THE_BHYT (a 12-digit code is a CCCD: NĐ 188/2025)."""
        pending = [_identity(p.tables["XML1"][0]) for p in self.pending]
        check_ins = [_identity(row) for _, row in self.check_ins]
        find = await self._cadres([*pending, *check_ins])
        for p, identity in zip(self.pending, pending, strict=True):
            p.cadre = find(identity)
            if p.cadre is None:
                p.item.outcome = Xml130Outcome.NOT_A_CADRE
        for (item, _), identity in zip(self.check_ins, check_ins, strict=True):
            if find(identity) is None:
                item.outcome = Xml130Outcome.NOT_A_CADRE
        self.pending = [p for p in self.pending if p.cadre is not None]

    async def _cadres(self, identities: list[Identity]) -> Callable[[Identity], CadreView | None]:
        national_ids = {n for n, _ in identities if n} | {c for _, codes in identities for c in codes if len(c) == 12}
        cards = {c for _, codes in identities for c in codes}
        by_nid: dict[str, CadreView] = {}
        by_card: dict[str, CadreView] = {}
        if national_ids or cards:
            for row in await self.session.execute(queries.cadres_by_identity(national_ids, cards)):
                view = CadreView(*row[:-1])
                by_nid[view.national_id] = view
                if row.bhyt_number:
                    by_card[row.bhyt_number] = view

        def find(identity: Identity) -> CadreView | None:
            national_id, codes = identity
            if national_id and national_id in by_nid:
                return by_nid[national_id]
            return next((by_card.get(c) or by_nid[c] for c in codes if c in by_card or c in by_nid), None)

        return find

    # ---- 4. the core -------------------------------------------------------------------------------

    async def _ingest(self) -> None:
        index = 0
        for p in list(self.pending):
            assert p.cadre is not None
            p.mapped = mapping.map_encounter(p.tables, p.ma_cskcb, p.cadre.national_id, self.today)
            if p.mapped.errors:
                self._refuse(p, p.mapped.errors)
                continue
            p.parsed = [parse_item(index + i, command) for i, command in enumerate(p.mapped.commands)]
            index += len(p.parsed)
            errors = self._relocated(p, {q.index: q.errors for q in p.parsed if q.errors})
            if errors:
                self._refuse(p, errors)
        whole = [p for p in self.pending if len(p.parsed) > 1]  # stored whole or not at all: checked first
        if whole:
            checked = await Ingestion(self.session, self.outbox, self.principal).run(
                [q for p in whole for q in p.parsed], store=False
            )
            self._refuse_failed(whole, checked)
        results = await Ingestion(self.session, self.outbox, self.principal).run(
            [q for p in self.pending for q in p.parsed], store=True
        )
        self._outcomes(results)

    def _relocated(self, p: Pending, by_index: dict[int, list[FieldError]]) -> list[FieldError]:
        assert p.mapped is not None
        first = p.parsed[0].index
        return [
            e.model_copy(update={"loc": mapping.xml_loc(p.mapped, index - first, list(e.loc))})
            for index, errors in sorted(by_index.items())
            for e in errors
        ]

    def _refuse_failed(self, group: list[Pending], results: list[BulkItemResult]) -> None:
        by_index = {r.index: r for r in results}
        for p in group:
            failed = {q.index: by_index[q.index].errors for q in p.parsed if by_index[q.index].outcome is ItemOutcome.REFUSED}
            if failed:
                self._refuse(p, self._relocated(p, failed))

    def _outcomes(self, results: list[BulkItemResult]) -> None:
        by_index = {r.index: r for r in results}
        for p in list(self.pending):
            mine = [by_index[q.index] for q in p.parsed]
            refused = {r.index: r.errors for r in mine if r.outcome is ItemOutcome.REFUSED}
            if refused:  # a single-record encounter: the core stored nothing of it
                self._refuse(p, self._relocated(p, refused))
                continue
            p.item.records = [r.record for r in mine if r.record is not None]
            outcomes = {r.outcome for r in mine}
            p.item.outcome = (
                CORE_OUTCOME.get(outcomes.pop(), Xml130Outcome.AMENDED) if len(outcomes) == 1 else Xml130Outcome.AMENDED
            )

    # ---- 5. the files ------------------------------------------------------------------------------

    async def _keep_files(self, stored: dict[str, Stored]) -> None:
        now, rows = clock.now(), []
        for p in self.pending:
            ma_lk = p.encounter.ma_lk or ""
            earlier = stored.get(ma_lk, Stored())
            for name, table in p.encounter.tables.items():
                if earlier.hashes.get(name) == table.sha256:
                    continue
                if earlier.versions:
                    p.item.changed_tables.append(name)
                rows.append(
                    {
                        "facility": self.facility,
                        "ma_cskcb": p.ma_cskcb,
                        "ma_lk": ma_lk,
                        "table_name": name,
                        "version": earlier.versions.get(name, 0) + 1,
                        "sha256": table.sha256,
                        "content": zlib.compress(table.raw, 1),  # level 1: a third of level 6's CPU, the files are small
                        "envelope_sha256": p.envelope.sha256,
                        "signature": p.verdict,
                        "received_at": now,
                        "received_by": self.principal.subject,
                    }
                )
            p.item.changed_tables.sort(key=_table_order)
        if rows:
            await self.session.execute(insert(queries.FILES), rows)


def _identity(row: Row) -> Identity:
    codes = [c.strip().upper() for c in (row.get("MA_THE_BHYT") or "").split(";") if c.strip()]
    return (row.get("SO_CCCD") or None), codes


def _table_order(name: str) -> int:
    digits = name.removeprefix("XML")
    return int(digits) if digits.isdigit() else 99
