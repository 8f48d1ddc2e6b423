"""A split maps each cadre's past onto the part it went to (issue 10, point 4), on SQLite and PostgreSQL: the
split entered after the records or before them gives the same figures."""

import uuid
from datetime import date
from typing import Any

from reporting_testkit import Bare, snapshot, unit

from contracts.enums import CadreStatus, EncounterKind, ManagementTier, UnitLevel
from contracts.envelope import DomainEvent
from contracts.events.clinical import ClinicalRecordRecorded, RecordSummary
from contracts.events.registry import CadreRegistered, CadreSnapshot, CadreTransferred, UnitCreated, UnitsReorganized
from reporting.feed import EventFeed
from reporting.rebuild.service import clear

SPLIT = date(2025, 7, 1)
H1 = {"period_start": "2025-01-01", "period_end": "2025-06-30"}
P2 = ManagementTier.PROVINCIAL_2


def visits(summary: dict[str, Any]) -> int:
    return int(summary["activity"]["outpatient_visits"])


def split_events(cadres: list[CadreSnapshot]) -> tuple[list[DomainEvent], list[DomainEvent], list[DomainEvent]]:
    """VN.50 split on 2025-07-01 into VN.51 (the first 10 cadres) and VN.52 (the rest); one visit each, before it."""
    old = unit("VN.50", "Tỉnh Cũ", UnitLevel.PROVINCE)
    parts = [
        unit(p, n, UnitLevel.PROVINCE).model_copy(update={"valid_from": SPLIT}) for p, n in (("VN.51", "Bắc"), ("VN.52", "Nam"))
    ]
    units: list[DomainEvent] = [UnitCreated(unit=unit("VN", "Việt Nam", UnitLevel.NATION)), UnitCreated(unit=old)]
    units += [CadreRegistered(cadre=c) for c in cadres]
    split: list[DomainEvent] = [
        UnitsReorganized(
            kind="split",
            effective_date=SPLIT,
            retired_units=[old.model_copy(update={"valid_to": SPLIT})],
            created_units=parts,
            mapping={"VN.50": ["VN.51", "VN.52"]},
            moved_cadres=len(cadres),
        )
    ]
    split += [
        CadreTransferred(
            cadre=c.model_copy(update={"managing_unit": "VN.51" if i < 10 else "VN.52"}),
            previous_managing_unit="VN.50",
            effective_date=SPLIT,
            reason="chia tách",
        )
        for i, c in enumerate(cadres)
    ]
    records: list[DomainEvent] = [
        ClinicalRecordRecorded(
            record=RecordSummary(
                record_id=uuid.uuid5(c.id, "split"),
                version=1,
                kind=EncounterKind.OUTPATIENT_VISIT,
                cadre_id=c.id,
                facility="50-BVDK",
                external_id=f"{c.id.hex}-split",
                occurred_on=date(2025, 2, 1),
            )
        )
        for c in cadres
    ]
    return units, split, records


async def test_a_split_maps_each_cadres_past_onto_the_part_it_went_to(
    reporting: Bare,
) -> None:
    ask, db = reporting.ask, reporting.db
    cadres = [snapshot("VN.50", P2, CadreStatus.ACTIVE, date(2020, 1, 1)) for _ in range(13)]
    units, split, records = split_events(cadres)
    questions = [("/summary", {"unit": u, **H1, "basis": b}) for u in ("VN.50", "VN.51", "VN.52") for b in ("as_then", "today")]
    for order in ((*units, *records, *split), (*units, *split, *records)):
        await clear(db)
        fed = EventFeed(db)
        for event in order:
            cadre = getattr(event, "cadre", None)
            await fed.send(event, subject=str(cadre.id) if cadre else None, managing_unit="VN.50", tier=P2)
        got = {(q[1]["unit"], q[1]["basis"]): await ask(*q) for q in questions}
        assert {k: visits(v) for k, v in got.items()} == {
            ("VN.50", "as_then"): 13,
            ("VN.50", "today"): 0,
            ("VN.51", "as_then"): 0,
            ("VN.51", "today"): 10,
            ("VN.52", "as_then"): 0,
            ("VN.52", "today"): 3,
        }
        assert got[("VN.51", "today")]["cadres"]["total"] == 10 and got[("VN.52", "today")]["cadres"]["total"] == 3
