"""The report's convalescence section (an dưỡng, điều dưỡng): trips starting in the period and their registrations.

Seed 003 says "Đăng ký cho 06/14 đồng chí thuộc đối tượng quy định đi nghỉ dưỡng sức tại khu nghỉ dưỡng Đại Lải
từ ngày 26/7 - 09/8/2023": registered / eligible, per trip. Scheduling publishes each trip with its quota and the
number of cadres its rule made eligible then (`eligible`); a trip published before that was part of the event
has no eligible count, and the line then counts registrations against the trip's places, saying so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.reporting import ArithmeticCheck, ConvalescenceSection, UnitBasis
from contracts.scope import Principal
from reporting.board_reports import queries
from reporting.domain import check

REGISTERED, CANCELLED = "registered", "cancelled"
NO_TRIP = "Không có chuyến nghỉ dưỡng nào bắt đầu trong kỳ. / No convalescence trip starts in this period."


@dataclass(frozen=True)
class TripCount:
    trip_id: uuid.UUID
    title: str
    starts_on: date
    ends_on: date
    quota: int
    registered: int
    cancelled: int
    destination: str = ""
    eligible: int | None = None

    def line(self) -> str:
        """The trip as seed 003 writes it."""
        dates = f"từ ngày {self.starts_on:%d/%m} - {self.ends_on:%d/%m/%Y}"
        if self.eligible is None:
            return f"Đăng ký cho {self.registered:02d}/{self.quota:02d} chỗ đi nghỉ dưỡng tại {self.destination} {dates}"
        return (
            f"Đăng ký cho {self.registered:02d}/{self.eligible:02d} đồng chí thuộc đối tượng quy định "
            f"đi nghỉ dưỡng tại {self.destination} {dates}"
        )


@dataclass(frozen=True)
class ConvalescenceFigures:
    trips: list[TripCount]
    by_status: dict[str, int]  # registrations in scope, by status
    total: int  # counted on its own: what the checks compare the parts with

    def checks(self) -> list[ArithmeticCheck]:
        return [
            check("Nghỉ dưỡng: số lượt đăng ký = đang đăng ký + đã hủy", self.total, self.by_status),
            check(
                "Nghỉ dưỡng: đang đăng ký = tổng theo chuyến",
                self.by_status.get(REGISTERED, 0),
                {f"{t.title} ({t.starts_on})": t.registered for t in self.trips},
            ),
        ]

    def section(self) -> ConvalescenceSection:
        registered, cancelled = self.by_status.get(REGISTERED, 0), self.by_status.get(CANCELLED, 0)
        if not self.trips and not self.total:
            return ConvalescenceSection(has_data=False, note=NO_TRIP)
        known = [t.eligible for t in self.trips if t.eligible is not None]
        # a cadre may be eligible for several trips: a sum is a count of cadres only when there is one trip
        eligible = known[0] if len(self.trips) == 1 and known else None
        lines = "; ".join(t.line() for t in self.trips)
        of = ", ".join(f"{t.eligible} eligible" if t.eligible is not None else f"{t.quota} places" for t in self.trips)
        note = (
            f"{lines}; {cancelled} đã hủy đăng ký. / {registered} registered on {len(self.trips)} trip(s) in the "
            f"period (of {of}), {cancelled} cancelled."
        )
        return ConvalescenceSection(has_data=True, registered=registered, eligible=eligible, note=note)


async def convalescence_figures(
    session: AsyncSession, principal: Principal, unit: str, start: date, end: date, basis: UnitBasis = UnitBasis.AS_THEN
) -> ConvalescenceFigures:
    """Trips of a board at, above or below the unit that start in the period, and those the in-scope cadres'
    registrations name; the registrations of in-scope cadres to them."""
    trips = list((await session.execute(queries.trips_starting(unit, start, end))).scalars())
    counts: dict[tuple[uuid.UUID, str], int] = {
        (trip_id, status): n
        for trip_id, status, n in await session.execute(queries.registrations_by_trip(principal, unit, start, end, basis))
    }
    total = (await session.execute(queries.registrations_counted(principal, unit, start, end, basis))).scalar_one()
    others = sorted({trip_id for trip_id, _status in counts} - {t.trip_id for t in trips}, key=str)
    if others:
        trips += list((await session.execute(queries.trips_with_ids(others))).scalars())
        trips.sort(key=lambda t: (t.starts_on, str(t.trip_id)))
    by_status: dict[str, int] = {REGISTERED: 0, CANCELLED: 0}
    for (_trip_id, status), n in counts.items():
        by_status[status] = by_status.get(status, 0) + n
    found = [
        TripCount(
            t.trip_id,
            t.title,
            t.starts_on,
            t.ends_on,
            t.quota,
            counts.get((t.trip_id, REGISTERED), 0),
            counts.get((t.trip_id, CANCELLED), 0),
            t.destination,
            t.eligible if t.board_unit == unit else None,  # the rule's count is the trip board's, not a part of it
        )
        for t in trips
    ]
    return ConvalescenceFigures(found, by_status, int(total))
