"""Convalescence trips and registrations (scheduling's events) through the consumer kit into the board report."""

import io
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from contracts.enums import Action, ManagementTier, UnitLevel
from contracts.events.registry import UnitCreated, UnitSnapshot
from contracts.events.scheduling import ConvalescenceRegistered, ConvalescenceRegistrationCancelled, ConvalescenceTripPublished
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, PrincipalKind
from reporting.app import create_app
from reporting.feed import EventFeed
from reporting.settings import ReportingSettings
from servicekit import migrations

Sign = Callable[[Principal], dict[str, str]]
PERMS = frozenset({Permission.REPORTING_READ})
LAMDONG = Principal(
    subject="user:lamdong",
    kind=PrincipalKind.STAFF,
    permissions=PERMS,
    grants=(Grant(unit_path="VN.68", tiers=frozenset(ManagementTier), actions=frozenset({Action.READ})),),
)
DALAT = Principal(
    subject="user:dalat",
    kind=PrincipalKind.STAFF,
    permissions=PERMS,
    grants=(Grant(unit_path="VN.68.672", tiers=frozenset({ManagementTier.DISTRICT}), actions=frozenset({Action.READ})),),
)
SECOND_HALF = {"kind": "six_monthly", "period_start": "2023-07-01", "period_end": "2023-12-31"}
FIRST_HALF = {"kind": "six_monthly", "period_start": "2023-01-01", "period_end": "2023-06-30"}


def at(month: int, day: int) -> datetime:
    return datetime(2023, month, day, 9, tzinfo=UTC)


@dataclass
class Trip:
    feed: EventFeed
    trip_id: uuid.UUID
    starts_on: date

    async def register(
        self, unit: str, tier: ManagementTier, when: datetime, registration_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        registration_id = registration_id or uuid.uuid4()
        event = ConvalescenceRegistered(
            registration_id=registration_id,
            trip_id=self.trip_id,
            board_unit="VN.68",
            cadre_id=uuid.uuid5(registration_id, "cadre"),
            tier=tier,
            managing_unit=unit,
            starts_on=self.starts_on,
            registered_on=when.date(),
        )
        await self.feed.send(event, subject=str(registration_id), managing_unit=unit, tier=tier, time=when)
        return registration_id

    async def cancel(self, registration_id: uuid.UUID, unit: str, tier: ManagementTier, when: datetime) -> None:
        event = ConvalescenceRegistrationCancelled(
            registration_id=registration_id,
            trip_id=self.trip_id,
            cadre_id=uuid.uuid5(registration_id, "cadre"),
            reason="sức khỏe không cho phép",
            cancelled_on=when.date(),
        )
        await self.feed.send(event, subject=str(registration_id), managing_unit=unit, tier=tier, time=when)


async def publish_trip(
    feed: EventFeed, title: str, starts_on: date, ends_on: date, quota: int, eligible: int | None = None
) -> Trip:
    """`eligible` None: a trip published before the event said how many cadres were eligible."""
    trip = Trip(feed, uuid.uuid4(), starts_on)
    event = ConvalescenceTripPublished(
        trip_id=trip.trip_id,
        board_unit="VN.68",
        title=title,
        destination=f"khu nghỉ dưỡng {title}",
        starts_on=starts_on,
        ends_on=ends_on,
        quota=quota,
        rule_version=1,
        eligible=eligible,
    )
    await feed.send(event, subject=str(trip.trip_id), managing_unit="VN.68", time=at(6, 1))
    return trip


async def seed(feed: EventFeed) -> None:
    for path, name, level in (
        ("VN", "Việt Nam", UnitLevel.NATION),
        ("VN.68", "Tỉnh Lâm Đồng", UnitLevel.PROVINCE),
        ("VN.68.672", "Thành phố Đà Lạt", UnitLevel.DISTRICT),
    ):
        snapshot = UnitSnapshot(
            path=path,
            code=path.rpartition(".")[2],
            name=name,
            level=level,
            parent_path=path.rpartition(".")[0] or None,
            valid_from=date(2000, 1, 1),
        )
        await feed.send(UnitCreated(unit=snapshot), subject=path)
    p2, district = ManagementTier.PROVINCIAL_2, ManagementTier.DISTRICT
    dai_lai = await publish_trip(feed, "Đại Lải", date(2023, 7, 26), date(2023, 8, 9), 16, eligible=14)
    for _ in range(4):
        await dai_lai.register("VN.68", p2, at(6, 10))
    await dai_lai.register("VN.68.672", district, at(6, 11))
    # cancelled: stays cancelled
    x = await dai_lai.register("VN.68", p2, at(6, 10))
    await dai_lai.cancel(x, "VN.68", p2, at(6, 20))
    # the cancellation arrives before the (earlier) registration: the later event still wins
    y = uuid.uuid4()
    await dai_lai.cancel(y, "VN.68", p2, at(6, 21))
    await dai_lai.register("VN.68", p2, at(6, 12), registration_id=y)
    # registered again after a cancellation: the same registration id, registered in the end
    z = await dai_lai.register("VN.68", p2, at(6, 10))
    await dai_lai.cancel(z, "VN.68", p2, at(6, 15))
    await dai_lai.register("VN.68", p2, at(6, 25), registration_id=z)
    # a trip of the first half: not in the second half's figures
    sam_son = await publish_trip(feed, "Sầm Sơn", date(2023, 5, 2), date(2023, 5, 12), 3)
    await sam_son.register("VN.68", p2, at(4, 1))


@dataclass
class World:
    http: httpx.AsyncClient
    feed: EventFeed
    sign: Sign

    async def report(self, principal: Principal, unit: str, **params: str) -> Any:
        answer = await self.http.get("/reports/board", params={"unit": unit, **params}, headers=self.sign(principal))
        assert answer.status_code == 200, answer.text
        return answer.json() if "format" not in params else answer.content


@pytest.fixture
async def world(database_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path, sign_as: Sign) -> AsyncIterator[World]:
    migrations.upgrade("reporting", database_url)
    settings = ReportingSettings(database_url=database_url, data_dir=tmp_path, internal_public_key_file=internal_keys[1])
    app = create_app(settings, run_workers=False)
    feed = EventFeed(app.state.runtime.db)
    await seed(feed)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as http:
        yield World(http, feed, sign_as)
    await app.state.runtime.db.dispose()


async def test_convalescence_section_counts_registrations_of_the_periods_trips(world: World) -> None:
    report = await world.report(LAMDONG, "VN.68", **SECOND_HALF)
    section = report["convalescence"]
    assert (section["has_data"], section["registered"], section["eligible"]) == (True, 6, 14)
    seed_003 = (
        "Đăng ký cho 06/14 đồng chí thuộc đối tượng quy định đi nghỉ dưỡng tại khu nghỉ dưỡng Đại Lải từ ngày 26/07 - 09/08/2023"
    )
    assert section["note"].startswith(seed_003) and "6 registered on 1 trip(s) in the period (of 14 eligible)" in section["note"]
    assert "2 cancelled" in section["note"] and "Đại Lải" in section["note"] and "Sầm Sơn" not in section["note"]
    assert report["has_data"] is True and report["consistent"] is True
    checks = {c["label"]: c for c in report["checks"] if c["label"].startswith("Nghỉ dưỡng")}
    assert checks["Nghỉ dưỡng: số lượt đăng ký = đang đăng ký + đã hủy"]["parts"] == {"registered": 6, "cancelled": 2}
    assert checks["Nghỉ dưỡng: số lượt đăng ký = đang đăng ký + đã hủy"]["total"] == 8
    assert checks["Nghỉ dưỡng: đang đăng ký = tổng theo chuyến"]["parts"] == {"Đại Lải (2023-07-26)": 6}

    first_half = (await world.report(LAMDONG, "VN.68", **FIRST_HALF))["convalescence"]
    assert (first_half["registered"], first_half["eligible"]) == (1, None)  # published without its eligible count
    assert first_half["note"].startswith("Đăng ký cho 01/03 chỗ") and "(of 3 places)" in first_half["note"]
    sheet = openpyxl.load_workbook(io.BytesIO(await world.report(LAMDONG, "VN.68", **SECOND_HALF, format="xlsx")))["Báo cáo"]
    rows = [r for r in sheet.iter_rows(values_only=True)]
    heading = next(i for i, r in enumerate(rows) if r[0] == "Đăng ký")
    assert rows[heading + 1][0] == 6


async def test_convalescence_scope_and_redelivery(world: World) -> None:
    dalat = (await world.report(DALAT, "VN.68.672", **SECOND_HALF))["convalescence"]
    assert dalat["registered"] == 1 and "(of 16 places)" in dalat["note"] and "0 cancelled" in dalat["note"]
    before = await world.report(LAMDONG, "VN.68", **SECOND_HALF)
    await world.feed.redeliver_all()
    after = await world.report(LAMDONG, "VN.68", **SECOND_HALF)
    before.pop("generated_at"), after.pop("generated_at")
    assert after == before
    empty = (await world.report(LAMDONG, "VN.68", kind="six_monthly", period_start="2022-07-01", period_end="2022-12-31"))[
        "convalescence"
    ]
    assert empty["has_data"] is False and "No convalescence trip" in empty["note"]
