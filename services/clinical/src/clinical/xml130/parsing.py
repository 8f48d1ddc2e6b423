"""Reading QĐ 130 uploads, with no I/O: ZIP and envelope bytes in, plain rows out.

Safe by construction: lxml with entities unresolved, no network, no DTD loading, libxml2's default
limits (no huge_tree: depth 256, text nodes 10 MB); a document with a DOCTYPE is refused outright (an
entity bomb needs one), and sizes are capped: the envelope before it is parsed, each inner file as it is
decoded (bounded by the envelope's cap). A problem inside one HOSO (malformed inner XML, base64 that is not
XML, a table of the wrong shape) refuses that encounter only.
"""

import binascii
import hashlib
import io
import zipfile
from dataclasses import dataclass, field

import pybase64
from lxml import etree

from clinical.xml130.tables import CHECK_IN, KNOWN_UNREAD, READ, TableSpec

MAX_ENVELOPE_BYTES = 20 * 1024 * 1024
MAX_INNER_BYTES = 5 * 1024 * 1024
MAX_ZIP_FILES = 2000
MAX_ZIP_BYTES = 200 * 1024 * 1024  # uncompressed, all members together: a ZIP bomb stops here
MAX_ENCOUNTERS = 1000  # per upload
ENVELOPE_ROOT = "GIAMDINHHS"
Row = dict[str, str | None]

PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False, remove_comments=True
)


class XmlProblem(ValueError):
    """Why a document is refused: `where` names the part (envelope, XML1...), `type` the error type."""

    def __init__(self, where: str, msg: str, type_: str) -> None:
        super().__init__(msg)
        self.where, self.msg, self.type = where, msg, type_


@dataclass
class Table:
    name: str
    rows: list[Row]
    ignored: list[str]
    raw: bytes  # the inner document as sent, kept for audit
    sha256: str


@dataclass
class Encounter:
    position: int
    tables: dict[str, Table] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    problem: XmlProblem | None = None

    @property
    def ma_lk(self) -> str | None:
        for table in self.tables.values():
            if table.rows and table.rows[0].get("MA_LK"):
                return table.rows[0]["MA_LK"]
        return None


@dataclass
class Envelope:
    kind: str  # GIAMDINHHS | XML0
    ma_cskcb: str | None
    signed: bool
    encounters: list[Encounter]
    check_ins: list[Row]
    sha256: str


def _tag(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) and tag.startswith("{") else str(tag)


def parse_document(data: bytes, where: str) -> etree._Element:
    """One XML document, safely; a UTF-8 BOM is dropped (some HIS write one)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as exc:
        raise XmlProblem(where, f"malformed XML: {exc}", "xml_malformed") from exc
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise XmlProblem(where, "a DOCTYPE (DTD, entities) is not accepted", "xml_dtd_forbidden")
    return root


def _text(element: etree._Element) -> str | None:
    text = (element.text or "").strip()
    return text or None


def _unknown_dropped(row: Row, spec: TableSpec, ignored: list[str]) -> None:
    for name in row.keys() - spec.fields:
        del row[name]
        label = f"{spec.name}/{etree.QName(name).localname if isinstance(name, str) else '?'}"
        if label not in ignored:
            ignored.append(label)


def read_table(spec: TableSpec, root: etree._Element) -> tuple[list[Row], list[str]]:
    """Rows of a table (one for a single-record table), and the unknown elements met.

    Each row is one comprehension over its children, empty elements None: this is where reading an envelope
    spends its Python time (some 1,300 elements in an envelope of 30-line tables), so `.text` is read once per
    child (each read builds a new str) and the known-fields test is a subset check, done per row only when needed.
    """
    if _tag(root) != spec.root:
        raise XmlProblem(spec.name, f"the root element is {_tag(root)}, expected {spec.root}", "table_root")
    ignored: list[str] = []
    elements = [root] if spec.row is None else root.iter(spec.row)
    rows: list[Row] = [
        {child.tag: (text.strip() or None) if (text := child.text) else None for child in element} for element in elements
    ]
    fields, required = spec.fields, spec.required
    for index, row in enumerate(rows):
        if not row.keys() <= fields:
            _unknown_dropped(row, spec, ignored)
        for name in required:
            if not row.get(name):
                where = spec.name if spec.row is None else f"{spec.name}[{index}]"
                raise XmlProblem(where, f"{name} is required in {spec.name} ({spec.root})", "element_missing")
    return rows, ignored


def decode_inner(content: etree._Element, name: str) -> bytes:
    """NOIDUNGFILE: base64 of the inner document, or (some HIS) the inner document as child elements."""
    children = [c for c in content if isinstance(c.tag, str)]
    if children:
        return bytes(etree.tostring(children[0], encoding="utf-8"))
    text = content.text or ""  # within the envelope's own cap, so decoding before the size check is bounded
    try:  # pybase64: SIMD, 7x the stdlib here; like the stdlib's lenient mode it skips line breaks and blanks
        data = pybase64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise XmlProblem(name, f"NOIDUNGFILE is not base64: {exc}", "base64_invalid") from exc
    if not data:
        raise XmlProblem(name, "NOIDUNGFILE is empty", "file_empty")
    if len(data) > MAX_INNER_BYTES:
        raise XmlProblem(name, f"the file exceeds {MAX_INNER_BYTES} bytes", "file_too_large")
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise XmlProblem(name, "NOIDUNGFILE decodes to something that is not XML", "base64_not_xml")
    return data


def _encounter(position: int, hoso: etree._Element) -> Encounter:
    encounter = Encounter(position)
    try:
        for file_element in hoso.iter("FILEHOSO"):
            kind_element, content = file_element.find("LOAIHOSO"), file_element.find("NOIDUNGFILE")
            name = (_text(kind_element) if kind_element is not None else None) or "?"
            if content is None:
                raise XmlProblem(name, "FILEHOSO without NOIDUNGFILE", "file_empty")
            if name in KNOWN_UNREAD or name not in READ:
                encounter.ignored.append(name)
                continue
            if name in encounter.tables:
                raise XmlProblem(name, f"{name} twice in one HOSO", "table_repeated")
            raw = decode_inner(content, name)
            rows, ignored = read_table(READ[name], parse_document(raw, name))
            encounter.tables[name] = Table(name, rows, ignored, raw, hashlib.sha256(raw).hexdigest())
            encounter.ignored += ignored
        _same_ma_lk(encounter)
    except XmlProblem as problem:
        encounter.problem = problem
    return encounter


def _same_ma_lk(encounter: Encounter) -> None:
    if not encounter.tables:
        raise XmlProblem("HOSO", "no table CadreCare reads (XML1-5, 7, 13, 14) in this HOSO", "hoso_empty")
    first = encounter.ma_lk
    for table in encounter.tables.values():
        for row in table.rows:
            if row.get("MA_LK") != first:
                raise XmlProblem(table.name, f"MA_LK {row.get('MA_LK')!r} differs from {first!r} in one HOSO", "ma_lk_mismatch")


def parse_envelope(data: bytes) -> Envelope:
    """A GIAMDINHHS envelope or a check-in file (XML0); raises XmlProblem when the whole document is unusable."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise XmlProblem("envelope", f"the document exceeds {MAX_ENVELOPE_BYTES} bytes", "envelope_too_large")
    root = parse_document(data, "envelope")
    digest = hashlib.sha256(data).hexdigest()
    signed = next(root.iter("{http://www.w3.org/2000/09/xmldsig#}Signature"), None) is not None
    if _tag(root) == CHECK_IN.root:
        rows, _ = read_table(CHECK_IN, root)
        facility = rows[0].get("MA_CSKCB") if rows else None
        return Envelope("XML0", facility, signed, [], rows[:MAX_ENCOUNTERS], digest)
    if _tag(root) != ENVELOPE_ROOT:
        raise XmlProblem(
            "envelope", f"the root element is {_tag(root)}, expected {ENVELOPE_ROOT} or {CHECK_IN.root}", "envelope_root"
        )
    facility_element = root.find("THONGTINDONVI/MACSKCB")
    facility = _text(facility_element) if facility_element is not None else None
    if not facility:
        raise XmlProblem("envelope", "THONGTINDONVI/MACSKCB is required", "element_missing")
    hosos = root.findall("THONGTINHOSO/DANHSACHHOSO/HOSO")
    if len(hosos) > MAX_ENCOUNTERS:
        raise XmlProblem("envelope", f"at most {MAX_ENCOUNTERS} HOSO per upload", "too_many_encounters")
    return Envelope("GIAMDINHHS", facility, signed, [_encounter(i, h) for i, h in enumerate(hosos)], [], digest)


def split_zip(data: bytes) -> list[tuple[str | None, bytes]]:
    """The .xml members of a ZIP, in name order, within the size caps."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise XmlProblem("body", f"not a readable ZIP: {exc}", "zip_invalid") from exc
    members = sorted((i for i in archive.infolist() if not i.is_dir()), key=lambda i: i.filename)
    if len(members) > MAX_ZIP_FILES:
        raise XmlProblem("body", f"at most {MAX_ZIP_FILES} files in one ZIP", "zip_too_large")
    if sum(i.file_size for i in members) > MAX_ZIP_BYTES:
        raise XmlProblem("body", f"the ZIP expands beyond {MAX_ZIP_BYTES} bytes", "zip_too_large")
    files: list[tuple[str | None, bytes]] = []
    for info in members:
        with archive.open(info) as member:
            content = member.read(MAX_ENVELOPE_BYTES + 1)  # the declared size may lie: read no more than the cap
        files.append((info.filename, content))
    return files
