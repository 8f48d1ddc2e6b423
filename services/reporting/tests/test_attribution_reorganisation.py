"""Every figure follows reorganisations (issue 10, point 4), on SQLite and PostgreSQL.

The issue's scenario: Đắk Nông (VN.67) merges into Lâm Đồng (VN.68, renamed) on 2025-07-01. Records dated
before and after the merger, a late record dated before it but posted after it, and an invitation on each
side. Two event orders: the merger entered after the records (A), and the records arriving after the merger
(B). Both give the same figures, each record counted under its cadre's unit on the record's date, as the
units stood then (`as_then`) or mapped onto today's (`today`); a past period's report names the unit as it
stood then.
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from reporting_testkit import LAMDONG, Ask, Bare, Sign, snapshot, unit

from contracts.enums import CadreStatus, EncounterKind, ManagementTier, UnitLevel
from contracts.envelope import DomainEvent
from contracts.events.clinical import ClinicalRecordRecorded, RecordSummary
from contracts.events.registry import CadreRegistered, CadreSnapshot, CadreTransferred, UnitCreated, UnitsReorganized
from contracts.events.scheduling import (
    ConvalescenceRegistered,
    ConvalescenceTripPublished,
    ExamPlanPublished,
    InvitationIssued,
    RoundSnapshot,
)
from reporting.feed import EventFeed
from reporting.rebuild.service import clear

MERGER = date(2025, 7, 1)
H1 = {"period_start": "2025-01-01", "period_end": "2025-06-30"}
H2 = {"period_start": "2025-07-01", "period_end": "2025-12-31"}
OLD_NAME, NEW_NAME = "Tỉnh Lâm Đồng", "Tỉnh Lâm Đồng (sau hợp nhất)"
P2 = ManagementTier.PROVINCIAL_2
REORGANISATION = uuid.uuid4()


@dataclass
class Story:
    """The scenario's events; which envelope scope a record carries depends on when it reached the platform."""

    lamdong: list[CadreSnapshot]
    daknong: list[CadreSnapshot]
    plan: ExamPlanPublished

    def units(self) -> list[DomainEvent]:
        return [
            UnitCreated(unit=unit("VN", "Việt Nam", UnitLevel.NATION)),
            UnitCreated(unit=unit("VN.68", OLD_NAME, UnitLevel.PROVINCE)),
            UnitCreated(unit=unit("VN.67", "Tỉnh Đắk Nông", UnitLevel.PROVINCE)),
        ]

    def merger(self) -> list[tuple[DomainEvent, str | None]]:
        old68, old67 = unit("VN.68", OLD_NAME, UnitLevel.PROVINCE), unit("VN.67", "Tỉnh Đắk Nông", UnitLevel.PROVINCE)
        new68 = old68.model_copy(update={"name": NEW_NAME, "valid_from": MERGER})
        reorganised = UnitsReorganized(
            kind="merge",
            effective_date=MERGER,
            retired_units=[old68.model_copy(update={"valid_to": MERGER}), old67.model_copy(update={"valid_to": MERGER})],
            created_units=[new68],
            mapping={"VN.68": ["VN.68"], "VN.67": ["VN.68"]},
            moved_cadres=len(self.daknong),
            reorganisation_id=REORGANISATION,
        )
        transfers: list[tuple[DomainEvent, str | None]] = [
            (
                CadreTransferred(
                    cadre=c.model_copy(update={"managing_unit": "VN.68"}),
                    previous_managing_unit="VN.67",
                    effective_date=MERGER,
                    reason="Nghị quyết 202/2025/QH15",
                    reorganisation_id=REORGANISATION,
                ),
                "VN.68",
            )
            for c in self.daknong
        ]
        return [(reorganised, None), *transfers]

    def records(self, merged: bool) -> list[tuple[DomainEvent, str | None]]:
        """11 + 1 late visits of Đắk Nông's cadres before the merger, 10 after it, 12 of Lâm Đồng's before it.
        The envelope carries the cadre's unit when the record was posted: VN.68 for everyone once `merged`."""

        def visit(cadre: CadreSnapshot, day: date) -> tuple[DomainEvent, str | None]:
            summary = RecordSummary(
                record_id=uuid.uuid5(cadre.id, day.isoformat()),
                version=1,
                kind=EncounterKind.OUTPATIENT_VISIT,
                cadre_id=cadre.id,
                facility="67-BVDK",
                external_id=f"{cadre.id.hex}-{day}",
                occurred_on=day,
                diagnoses=["I10"],
            )
            return ClinicalRecordRecorded(record=summary), "VN.68" if merged else cadre.managing_unit

        return [
            *(visit(c, date(2025, 3, 10)) for c in self.daknong),
            *(visit(c, date(2025, 8, 5)) for c in self.daknong[:10]),
            *(visit(c, date(2025, 4, 1)) for c in self.lamdong),
        ]

    def late_record(self) -> tuple[DomainEvent, str | None]:
        """Dated before the merger, posted after it (the cadre is Lâm Đồng's by then)."""
        cadre = self.daknong[0]
        summary = RecordSummary(
            record_id=uuid.uuid5(cadre.id, "late"),
            version=1,
            kind=EncounterKind.OUTPATIENT_VISIT,
            cadre_id=cadre.id,
            facility="67-BVDK",
            external_id=f"{cadre.id.hex}-late",
            occurred_on=date(2025, 6, 20),
        )
        return ClinicalRecordRecorded(record=summary), "VN.68"

    def invitations(self, merged: bool) -> list[tuple[DomainEvent, str | None]]:
        """Đắk Nông's cadres invited once before the merger and once after it (issued before it was entered in A)."""
        round_id = self.plan.rounds[0].id
        found: list[tuple[DomainEvent, str | None]] = []
        for cadre in self.daknong:
            for day in (date(2025, 5, 20), date(2025, 9, 10)):
                invitation = InvitationIssued(
                    invitation_id=uuid.uuid5(cadre.id, f"invitation-{day}"),
                    plan_id=self.plan.plan_id,
                    round_id=round_id,
                    cadre_id=cadre.id,
                    tier=P2,
                    managing_unit="VN.68" if merged and day > MERGER else cadre.managing_unit,
                    facility="67-BVDK",
                    appointment_date=day,
                )
                found.append((invitation, invitation.managing_unit))
        return found

    def convalescence(self, merged: bool) -> list[tuple[DomainEvent, str | None]]:
        """Đắk Nông's trip in May (3 of its cadres), Lâm Đồng's in September (2 of Đắk Nông's, registered before
        the merger was entered in A)."""
        found: list[tuple[DomainEvent, str | None]] = []
        for board, starts, cadres in (
            ("VN.67", date(2025, 5, 10), self.daknong[:3]),
            ("VN.68", date(2025, 9, 1), self.daknong[3:5]),
        ):
            trip = uuid.uuid5(uuid.NAMESPACE_URL, f"{board}-{starts}")
            found.append(
                (
                    ConvalescenceTripPublished(
                        trip_id=trip,
                        board_unit=board,
                        title=f"Nghỉ dưỡng {board}",
                        destination="Vũng Tàu",
                        starts_on=starts,
                        ends_on=starts.replace(day=starts.day + 5),
                        quota=10,
                        rule_version=1,
                    ),
                    None,
                )
            )
            for cadre in cadres:
                unit_then = "VN.68" if merged else cadre.managing_unit
                registration = ConvalescenceRegistered(
                    registration_id=uuid.uuid5(trip, str(cadre.id)),
                    trip_id=trip,
                    board_unit=board,
                    cadre_id=cadre.id,
                    tier=P2,
                    managing_unit=unit_then,
                    starts_on=starts,
                    registered_on=date(2025, 4, 1),
                )
                found.append((registration, unit_then))
        return found


def story() -> Story:
    lamdong = [snapshot("VN.68", P2, CadreStatus.ACTIVE, date(2020, 1, 1)) for _ in range(12)]
    daknong = [snapshot("VN.67", P2, CadreStatus.ACTIVE, date(2020, 1, 1)) for _ in range(11)]
    rounds = [RoundSnapshot(id=uuid.uuid4(), number=1, starts_on=date(2025, 5, 1), ends_on=date(2025, 12, 31))]
    plan = ExamPlanPublished(plan_id=uuid.uuid4(), board_unit="VN.67", year=2025, title="Kế hoạch 2025", rounds=rounds)
    return Story(lamdong, daknong, plan)


async def send(feed: EventFeed, events: list[tuple[DomainEvent, str | None]]) -> None:
    for event, scope in events:
        cadre = getattr(event, "cadre", None)
        tier = P2 if scope is not None else None
        subject = str(cadre.id) if cadre is not None else None
        await feed.send(event, subject=subject, managing_unit=scope, tier=tier)


async def order_a(feed: EventFeed, s: Story) -> None:
    """The merger entered after the records: they carry the units of the day they were posted."""
    await send(feed, [(u, None) for u in s.units()])
    await send(feed, [(CadreRegistered(cadre=c), c.managing_unit) for c in (*s.lamdong, *s.daknong)])
    await send(feed, [(s.plan, None), *s.invitations(merged=False), *s.records(merged=False)])
    await send(feed, s.convalescence(merged=False))
    await send(feed, s.merger())
    await send(feed, [s.late_record()])


async def order_b(feed: EventFeed, s: Story) -> None:
    """The merger first: every record arrives after it, scoped to the merged province."""
    await send(feed, [(u, None) for u in s.units()])
    await send(feed, [(CadreRegistered(cadre=c), c.managing_unit) for c in (*s.lamdong, *s.daknong)])
    await send(feed, s.merger())
    await send(feed, [s.late_record(), (s.plan, None), *s.invitations(merged=True), *s.records(merged=True)])
    await send(feed, s.convalescence(merged=True))


QUESTIONS: list[tuple[str, dict[str, str]]] = [
    (path, {"unit": unit_path, **period, "basis": basis})
    for path in ("/summary", "/reports/board")
    for unit_path in ("VN.68", "VN.67", "VN")
    for period in (H1, H2)
    for basis in ("as_then", "today")
] + [("/aggregation/national", {**period, "basis": basis}) for period in (H1, H2) for basis in ("as_then", "today")]


async def answers(ask: Ask) -> list[dict[str, Any]]:
    return [await ask(path, params) for path, params in QUESTIONS]


def visits(summary: dict[str, Any]) -> int:
    return int(summary["activity"]["outpatient_visits"])


async def test_a_merger_entered_after_the_records_and_records_after_it_give_the_same_figures(
    reporting: Bare,
) -> None:
    feed, ask, db = reporting.feed, reporting.ask, reporting.db
    s = story()
    await order_a(feed, s)
    first = await answers(ask)

    def summary(unit_path: str, period: dict[str, str], basis: str) -> dict[str, Any]:
        return first[QUESTIONS.index(("/summary", {"unit": unit_path, **period, "basis": basis}))]

    # as the units stood: the first half-year splits by province, the late record in Đắk Nông's
    assert visits(summary("VN.67", H1, "as_then")) == 12 and summary("VN.67", H1, "as_then")["cadres"]["total"] == 11
    assert visits(summary("VN.68", H1, "as_then")) == 12 and summary("VN.68", H1, "as_then")["cadres"]["total"] == 12
    assert visits(summary("VN.67", H2, "as_then")) == 0 and summary("VN.67", H2, "as_then")["cadres"]["total"] == 0
    assert visits(summary("VN.68", H2, "as_then")) == 10 and summary("VN.68", H2, "as_then")["cadres"]["total"] == 23
    # mapped onto today's units: everything is the merged province's
    assert visits(summary("VN.68", H1, "today")) == 24 and summary("VN.68", H1, "today")["cadres"]["total"] == 23
    assert visits(summary("VN.67", H1, "today")) == 0
    assert not summary("VN.68", H1, "as_then")["coverage"]["has_data"]
    assert summary("VN.67", H1, "as_then")["coverage"]["by_plan"][0]["invited"] == 11
    assert summary("VN.68", H2, "as_then")["coverage"]["by_plan"][0]["invited"] == 11
    assert summary("VN.68", H1, "today")["coverage"]["by_plan"][0]["invited"] == 11
    assert summary("VN", H1, "as_then")["chronic"]["rows"][0]["cadres"] == 23  # hypertension: every cadre with a visit
    # names as they stood in the period, or today's
    assert summary("VN.68", H1, "as_then")["unit_name"] == OLD_NAME
    assert summary("VN.68", H2, "as_then")["unit_name"] == NEW_NAME
    assert summary("VN.68", H1, "today")["unit_name"] == NEW_NAME
    report = first[QUESTIONS.index(("/reports/board", {"unit": "VN.68", **H1, "basis": "as_then"}))]
    assert report["unit_name"] == OLD_NAME and report["consistent"] and report["activity"]["outpatient_visits"] == 12

    def registered(unit_path: str, period: dict[str, str], basis: str) -> int | None:
        found = first[QUESTIONS.index(("/reports/board", {"unit": unit_path, **period, "basis": basis}))]
        return int(found["convalescence"]["registered"] or 0)

    assert registered("VN.67", H1, "as_then") == 3 and registered("VN.68", H2, "as_then") == 2
    assert registered("VN.67", H2, "as_then") == 0 and registered("VN.68", H1, "today") == 3
    rolled = first[QUESTIONS.index(("/aggregation/national", {**H1, "basis": "as_then"}))]
    by_province = {p["province"]: p for p in rolled["provinces"]}
    assert by_province["VN.67"]["cells"]["outpatient_visits"]["value"] == 12
    assert by_province["VN.68"]["name"] == OLD_NAME and by_province["VN.68"]["cells"]["outpatient_visits"]["value"] == 12
    rolled_today = first[QUESTIONS.index(("/aggregation/national", {**H1, "basis": "today"}))]
    assert [(p["province"], p["name"]) for p in rolled_today["provinces"]] == [("VN.68", NEW_NAME)]
    assert rolled_today["provinces"][0]["cells"]["outpatient_visits"]["value"] == 24

    await clear(db)
    await order_b(EventFeed(db), s)
    second = await answers(ask)
    assert second == first


async def test_the_dissolved_province_reports_as_it_stood_and_a_bad_basis_is_refused(
    reporting: Bare,
) -> None:
    feed, ask = reporting.feed, reporting.ask
    await order_a(feed, story())
    as_then = await ask("/reports/board", {"unit": "VN.67", **H1, "basis": "as_then"})
    assert as_then["activity"]["outpatient_visits"] == 12 and as_then["cadres"]["total"] == 11
    assert as_then["unit_name"] == "Tỉnh Đắk Nông" and as_then["consistent"]
    assert (await ask("/reports/board", {"unit": "VN.67", **H1, "basis": "today"}))["activity"]["outpatient_visits"] == 0
    refused = await ask("/summary", {"unit": "VN.68", **H1, "basis": "as_recorded"}, status=422)
    assert any(error["loc"][-1] == "basis" for error in refused["errors"]) or "basis" in str(refused)


async def test_an_issued_report_and_its_exports_keep_the_basis(reporting: Bare, sign_as: Sign) -> None:
    feed, http = reporting.feed, reporting.http
    await order_b(feed, story())
    params = {"unit": "VN.68", **H1, "basis": "today"}
    issued = await http.post("/reports/board/issued", params=params, headers=sign_as(LAMDONG))
    assert issued.status_code == 201, issued.text
    report = issued.json()["report"]
    assert report["unit_name"] == NEW_NAME and report["activity"]["outpatient_visits"] == 24 and report["consistent"]
    assert report["title"].endswith("; số liệu quy về đơn vị hành chính hiện nay)")  # the document says on which units
    again = await http.get(f"/reports/board/issued/{issued.json()['report_id']}", headers=sign_as(LAMDONG))
    assert again.json()["report"] == report
    as_then = await http.post("/reports/board/issued", params={**params, "basis": "as_then"}, headers=sign_as(LAMDONG))
    assert "hiện nay" not in as_then.json()["report"]["title"]
    assert as_then.json()["report"]["unit_name"] == OLD_NAME and as_then.json()["report"]["activity"]["outpatient_visits"] == 12
    xlsx = await http.get("/reports/board", params={**params, "format": "xlsx"}, headers=sign_as(LAMDONG))
    assert xlsx.status_code == 200 and xlsx.headers["content-disposition"].endswith('-today.xlsx"')
