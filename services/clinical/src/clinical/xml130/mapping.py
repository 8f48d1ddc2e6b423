"""QĐ 130 tables into the ingestion core's commands (the JSON interface's records), with no I/O.

One encounter (MA_LK) gives an outpatient visit or an admission (by MA_LOAI_KCB), named by MA_LK, and,
when the patient was referred (XML13, or MA_LOAI_RV 2/5 with MA_NOI_DEN), a referral named MA_LK#CT.
Errors are located in the XML: [table, element] (list tables: [table, row, element]).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from contracts.api.common import FieldError
from servicekit.clock import VIETNAM
from servicekit.errors import field_error

Row = dict[str, str | None]
Loc = list[str | int]

INPATIENT = frozenset({"03", "04", "06", "09"})  # MA_LOAI_KCB: inpatient, day inpatient, commune stay, < 4 h
REFERRAL_SUFFIX = "#CT"
KET_QUA = {
    "1": "recovered",
    "2": "improved",
    "3": "unchanged",
    "4": "worse",
    "5": "died",
    "6": "worse",
    "7": "unchanged",
    "8": "died",
}
LOAI_RV = {"2": "transferred", "3": "left_against_advice", "4": "left_against_advice", "5": "transferred"}
LYDO_CT = {"1": "đúng tuyến chuyên môn", "2": "vượt khả năng chuyên môn", "3": "theo yêu cầu người bệnh"}


def _cut(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def _many(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


@dataclass
class Mapped:
    """The commands of one encounter, and what went wrong while reading its values."""

    commands: list[dict[str, Any]] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    diagnosis_sources: list[list[str]] = field(default_factory=list)  # per command: element of each diagnosis

    def when(self, table: str, row: Row, name: str) -> datetime | None:
        """yyyymmddHHMM (12) or yyyymmdd (8), Vietnam's local time; a bad value is an error, not a guess."""
        raw = row.get(name)
        if not raw:
            return None
        moment = _moment(raw.strip())
        if moment is None:
            self.errors.append(field_error([table, name], f"{raw!r} is not a date (yyyymmddHHMM or yyyymmdd)", "date_invalid"))
        return moment

    def day(self, table: str, row: Row, name: str) -> date | None:
        moment = self.when(table, row, name)
        return moment.date() if moment else None


@lru_cache(maxsize=8192)
def _moment(text: str) -> datetime | None:
    """The instant of a QĐ 130 timestamp, None when it is not one. Cached, and without strptime: an envelope
    carries a hundred timestamps, mostly the same few, and strptime was a third of the mapping's time."""
    if len(text) not in (8, 12) or not text.isdigit():
        return None
    try:
        hour, minute = (int(text[8:10]), int(text[10:12])) if len(text) == 12 else (0, 0)
        return datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), hour, minute, tzinfo=VIETNAM)
    except ValueError:
        return None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _diagnoses(row: Row, mapped: Mapped) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    sources: list[str] = []
    if row.get("MA_BENH_CHINH"):
        found.append({"code": row["MA_BENH_CHINH"], "primary": True, "description": _cut(row.get("CHAN_DOAN_RV"), 500)})
        sources.append("MA_BENH_CHINH")
    for code in _many(row.get("MA_BENH_KT"))[:12]:
        found.append({"code": code[:10]})
        sources.append("MA_BENH_KT")
    mapped.diagnosis_sources.append(sources)
    return found


def _medications(rows: list[Row], m: Mapped) -> list[dict[str, Any]]:
    return [
        {
            "code": r["MA_THUOC"],
            "name": r.get("TEN_THUOC"),
            "strength": r.get("HAM_LUONG"),
            "route": _cut(r.get("DUONG_DUNG"), 50),
            "dosage": r.get("LIEU_DUNG") or r.get("CACH_DUNG"),
            "quantity": _number(r.get("SO_LUONG")),
            "unit": _cut(r.get("DON_VI_TINH"), 50),
            "ordered_at": m.when("XML2", r, "NGAY_YL"),
        }
        for r in rows
        if r.get("MA_THUOC")
    ]


def _services(rows: list[Row], m: Mapped) -> list[dict[str, Any]]:
    return [
        {
            "code": r.get("MA_DICH_VU") or r.get("MA_VAT_TU"),
            "name": r.get("TEN_DICH_VU") or r.get("TEN_VAT_TU"),
            "group": _cut(r.get("MA_NHOM"), 10),
            "quantity": _number(r.get("SO_LUONG")),
            "ordered_at": m.when("XML3", r, "NGAY_YL"),
            "performed_at": m.when("XML3", r, "NGAY_TH_YL"),
        }
        for r in rows
        if r.get("MA_DICH_VU") or r.get("MA_VAT_TU")
    ]


def _results(rows: list[Row], x1: Row) -> list[dict[str, Any]]:
    """XML4 rows with a value (GIA_TRI may be empty until the result arrives); a number with no unit stays text."""
    found: list[dict[str, Any]] = []
    weight = _number(x1.get("CAN_NANG"))
    if weight:
        found.append({"code": "weight", "value": weight, "unit": "kg"})
    for r in rows:
        code, value = r.get("MA_CHI_SO") or r.get("MA_DICH_VU"), r.get("GIA_TRI")
        if not code or not value:
            continue
        unit = _cut(r.get("DON_VI_DO"), 30)
        number = _number(value) if unit else None
        found.append(
            {
                "code": code[:50],
                "name": _cut(r.get("TEN_CHI_SO"), 200),
                "value": value[:4000] if number is None else number,
                "unit": unit,
            }
        )
    return found


def _notes(rows: list[Row], m: Mapped) -> list[dict[str, Any]]:
    return [
        {
            "at": m.when("XML5", r, "THOI_DIEM_DBLS"),
            "note": _cut(r.get("DIEN_BIEN_LS"), 4000),
            "stage": _cut(r.get("GIAI_DOAN_BENH"), 4000),
            "consultation": _cut(r.get("HOI_CHAN"), 4000),
            "surgery": _cut(r.get("PHAU_THUAT"), 4000),
        }
        for r in rows
    ]


def _follow_ups(x14: Row | None, m: Mapped) -> list[dict[str, Any]]:
    if x14 is None:
        return []
    paper = f" (giấy hẹn {x14['SO_GIAYHEN_KL']})" if x14.get("SO_GIAYHEN_KL") else ""
    finding = _cut(x14.get("CHAN_DOAN_RV") or x14.get("MA_BENH_CHINH") or "tái khám", 300)
    return [{"finding": finding, "action": f"Tái khám{paper}", "due_by": m.day("XML14", x14, "NGAY_HEN_KL")}]


def _not_future(m: Mapped, today: date, table: str, row: Row, names: tuple[str, ...]) -> None:
    for name in names:
        day = m.day(table, row, name)
        if day is not None and day > today:
            m.errors.append(
                field_error(
                    [table, name],
                    f"{day.isoformat()} is in the future (today is {today.isoformat()} in Vietnam)",
                    "date_in_future",
                )
            )


def _single(tables: dict[str, list[Row]], name: str) -> Row | None:
    rows = tables.get(name)
    return rows[0] if rows else None


def _main(tables: dict[str, list[Row]], national_id: str, m: Mapped) -> dict[str, Any]:
    x1 = tables["XML1"][0]
    x7 = _single(tables, "XML7")
    x14 = _single(tables, "XML14")
    kind_code = (x1.get("MA_LOAI_KCB") or "").zfill(2)
    departments = _many(x1.get("MA_KHOA"))
    command: dict[str, Any] = {
        "external_id": x1["MA_LK"],
        "national_id": national_id,
        "diagnoses": _diagnoses(x1, m),
        "notes": _cut(x1.get("GHI_CHU"), 4000),
        "medications": _medications(tables.get("XML2", []), m),
        "services": _services(tables.get("XML3", []), m),
        "results": _results(tables.get("XML4", []), x1),
        "progress_notes": _notes(tables.get("XML5", []), m),
        "follow_ups": _follow_ups(x14, m),
    }
    if kind_code not in INPATIENT:
        return command | {
            "kind": "outpatient_visit",
            "occurred_on": m.day("XML1", x1, "NGAY_VAO"),
            "department": _cut(departments[0], 300) if departments else None,
            "reason": _cut(x1.get("LY_DO_VV"), 4000),
        }
    ward = (x7 or {}).get("MA_KHOA_RV") or (departments[-1] if departments else None) or "Nội trú"
    command |= {
        "kind": "admission",
        "occurred_on": m.day("XML1", x1, "NGAY_VAO_NOI_TRU") or m.day("XML1", x1, "NGAY_VAO"),
        "ward": ward[:300],
        "department": _cut(departments[0], 300) if departments else None,
        "reason": _cut(x1.get("LY_DO_VNT") or x1.get("LY_DO_VV"), 4000),
    }
    discharged = (m.day("XML7", x7, "NGAY_RA") if x7 else None) or m.day("XML1", x1, "NGAY_RA")
    if discharged is not None:
        outcome = LOAI_RV.get(x1.get("MA_LOAI_RV") or "") or KET_QUA.get(x1.get("KET_QUA_DTRI") or "", "unchanged")
        summary = (x7 or {}).get("PP_DIEUTRI") or x1.get("PP_DIEU_TRI")
        command["discharge"] = {"discharged_on": discharged, "outcome": outcome, "summary": _cut(summary, 4000)}
    return command


def _referral(tables: dict[str, list[Row]], ma_cskcb: str, national_id: str, m: Mapped) -> dict[str, Any] | None:
    x1 = tables["XML1"][0]
    x13 = _single(tables, "XML13")
    source, table = (x13, "XML13") if x13 is not None else (x1, "XML1")
    if x13 is None and not (x1.get("MA_LOAI_RV") in ("2", "5") and x1.get("MA_NOI_DEN")):
        return None
    destination = source.get("MA_NOI_DEN") or ""
    reason = source.get("CHAN_DOAN_RV") or LYDO_CT.get(source.get("MA_LYDO_CT") or "")
    diagnoses = _diagnoses(source, m) if source.get("MA_BENH_CHINH") else _diagnoses(x1, m)
    return {
        "kind": "referral",
        "external_id": f"{x1['MA_LK']}{REFERRAL_SUFFIX}",
        "national_id": national_id,
        "occurred_on": m.day(table, source, "NGAY_RA") or m.day("XML1", x1, "NGAY_RA") or m.day("XML1", x1, "NGAY_VAO"),
        "referral_kind": "in_province" if destination[:2] == ma_cskcb[:2] else "higher_level",
        "to_facility": destination[:300],
        "reason": _cut(reason, 4000),
        "diagnoses": diagnoses,
    }


def map_encounter(tables: dict[str, list[Row]], ma_cskcb: str, national_id: str, today: date) -> Mapped:
    """The core's commands for one encounter whose XML1 is known (this upload's or stored)."""
    m = Mapped()
    x1 = tables["XML1"][0]
    _not_future(m, today, "XML1", x1, ("NGAY_VAO", "NGAY_VAO_NOI_TRU", "NGAY_RA", "NGAY_TTOAN"))
    if x1.get("MA_CSKCB") and x1["MA_CSKCB"] != ma_cskcb:
        m.errors.append(
            field_error(
                ["XML1", "MA_CSKCB"], f"{x1['MA_CSKCB']!r} is not the envelope's facility {ma_cskcb!r}", "facility_mismatch"
            )
        )
    m.commands.append(_main(tables, national_id, m))
    referral = _referral(tables, ma_cskcb, national_id, m)
    if referral is not None:
        m.commands.append(referral)
    return m


FIELD_TABLES: dict[str, str] = {
    "medications": "XML2",
    "services": "XML3",
    "results": "XML4",
    "progress_notes": "XML5",
    "follow_ups": "XML14",
}
MAIN_FIELDS: dict[str, Loc] = {
    "external_id": ["XML1", "MA_LK"],
    "national_id": ["XML1", "SO_CCCD"],
    "occurred_on": ["XML1", "NGAY_VAO"],
    "ward": ["XML1", "MA_KHOA"],
    "discharge": ["XML1", "NGAY_RA"],
}


def xml_loc(mapped: Mapped, command: int, loc: Loc) -> Loc:
    """Where in the XML a core error (located on the command's fields) comes from."""
    table = "XML1" if command == 0 else "XML13"
    if not loc:
        return [table]
    head, rest = str(loc[0]), loc[1:]
    if head == "diagnoses" and rest and isinstance(rest[0], int):
        sources = mapped.diagnosis_sources[command] if command < len(mapped.diagnosis_sources) else []
        element = sources[rest[0]] if rest[0] < len(sources) else "MA_BENH_KT"
        return [table, element]
    if head in FIELD_TABLES:
        return [FIELD_TABLES[head], *rest]
    if head in MAIN_FIELDS:
        return [table, *MAIN_FIELDS[head][1:]] if command == 1 and head != "national_id" else MAIN_FIELDS[head]
    return [table, head, *rest]
