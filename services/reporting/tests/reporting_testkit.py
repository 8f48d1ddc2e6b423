"""What reporting's API tests share: the principals of the boards, the units, and the events of a small
Lâm Đồng and Bình Định (`seed`), fed through the consumer kit. The `world` fixture is in conftest.py."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from contracts import roles
from contracts.codesystems import HEALTH_CLASSIFICATION_1266, CodedValue
from contracts.enums import Action, CadreStatus, EncounterKind, ManagementTier, ReferralKind, Sex, UnitLevel
from contracts.events.clinical import ClinicalRecordAmended, ClinicalRecordRecorded, ClinicalRecordWithdrawn, RecordSummary
from contracts.events.registry import CadreRegistered, CadreRetired, CadreSnapshot, UnitCreated, UnitSnapshot
from contracts.events.scheduling import ExamPlanPublished, InvitationIssued, InvitationStatusChanged, RoundSnapshot
from contracts.scope import Principal
from reporting.feed import EventFeed
from servicekit.testing.principals import principal_for

Sign = Callable[[Principal], dict[str, str]]
Ask = Callable[..., Awaitable[dict[str, Any]]]  # (path, params, status=200) -> the answer without generated_at
ALL = frozenset(ManagementTier)
RW = frozenset({Action.READ, Action.WRITE})
PROVINCIAL = frozenset(
    {ManagementTier.PROVINCIAL_1, ManagementTier.PROVINCIAL_2, ManagementTier.PROVINCIAL_3, ManagementTier.CENTRAL}
)

# The boards as the gateway signs them in (their role's grants and permissions).
ADMIN = principal_for(roles.administrator, subject="user:admin")
LAMDONG = principal_for(roles.provincial_board, "VN.68", subject="user:lamdong")
DALAT = principal_for(roles.district_board, "VN.68.672", subject="user:dalat")
CENTRAL = principal_for(roles.central_board, subject="user:central")
NOBODY = principal_for(roles.his_client, "VN.68", subject="user:his")  # a hospital: no reporting permission

PERIOD = {"period_start": "2023-01-01", "period_end": "2023-06-30"}


def unit(path: str, name: str, level: UnitLevel) -> UnitSnapshot:
    parent = path.rpartition(".")[0] or None
    return UnitSnapshot(
        path=path, code=path.rpartition(".")[2], name=name, level=level, parent_path=parent, valid_from=date(2000, 1, 1)
    )


UNITS = [
    unit("VN", "Việt Nam", UnitLevel.NATION),
    unit("VN.68", "Tỉnh Lâm Đồng", UnitLevel.PROVINCE),
    unit("VN.68.672", "Thành phố Đà Lạt", UnitLevel.DISTRICT),
    unit("VN.68.673", "Thành phố Bảo Lộc", UnitLevel.DISTRICT),
    unit("VN.52", "Tỉnh Bình Định", UnitLevel.PROVINCE),
]


def snapshot(unit_path: str, tier: ManagementTier, status: CadreStatus, since: date) -> CadreSnapshot:
    return CadreSnapshot(
        id=uuid.uuid4(),
        full_name="Nguyễn Văn Thử",
        date_of_birth=date(1960, 1, 1),
        sex=Sex.MALE,
        national_id="068060000000",
        tier=tier,
        status=status,
        status_since=since,
        managing_unit=unit_path,
    )


@dataclass
class World:
    http: httpx.AsyncClient
    feed: EventFeed
    database_url: str
    sign: Sign
    p2: list[CadreSnapshot]
    district: list[CadreSnapshot]


@dataclass
class Bare:
    """Reporting with no event fed yet (the `reporting` fixture): its feed, database, client, and `ask` as ADMIN."""

    feed: EventFeed
    db: Any
    http: httpx.AsyncClient
    ask: Ask


async def record(feed: EventFeed, cadre: CadreSnapshot, kind: EncounterKind, day: date, **fields: Any) -> RecordSummary:
    summary = RecordSummary(
        record_id=uuid.uuid4(),
        version=1,
        kind=kind,
        cadre_id=cadre.id,
        facility="68-BVDK",
        external_id=uuid.uuid4().hex,
        occurred_on=day,
        **fields,
    )
    await feed.send(
        ClinicalRecordRecorded(record=summary), subject=str(cadre.id), managing_unit=cadre.managing_unit, tier=cadre.tier
    )
    return summary


def classified(code: str) -> CodedValue:
    return CodedValue(system=HEALTH_CLASSIFICATION_1266.system, version=HEALTH_CLASSIFICATION_1266.version, code=code)


async def seed(feed: EventFeed) -> tuple[list[CadreSnapshot], list[CadreSnapshot]]:
    for u in UNITS:
        await feed.send(UnitCreated(unit=u), subject=u.path)
    p2 = [snapshot("VN.68", ManagementTier.PROVINCIAL_2, CadreStatus.ACTIVE, date(2020, 1, 1)) for _ in range(12)]
    p1 = [snapshot("VN.68", ManagementTier.PROVINCIAL_1, CadreStatus.ACTIVE, date(2019, 1, 1)) for _ in range(2)]
    district = [snapshot("VN.68.672", ManagementTier.DISTRICT, CadreStatus.RETIRED, date(2015, 1, 1)) for _ in range(4)]
    district.append(snapshot("VN.68.672", ManagementTier.DISTRICT, CadreStatus.ACTIVE, date(2023, 2, 1)))  # new in 2023
    binh_dinh = [snapshot("VN.52", ManagementTier.PROVINCIAL_3, CadreStatus.ACTIVE, date(2018, 1, 1)) for _ in range(11)]
    central = [snapshot("VN.52", ManagementTier.CENTRAL, CadreStatus.RETIRED, date(2016, 1, 1))]
    for cadre in (*p2, *p1, *district, *binh_dinh, *central):
        await feed.send(CadreRegistered(cadre=cadre), subject=str(cadre.id))
    for cadre in p2[:3]:
        retired = cadre.model_copy(update={"status": CadreStatus.RETIRED, "status_since": date(2023, 3, 1)})
        await feed.send(CadreRetired(cadre=retired, effective_date=date(2023, 3, 1)), subject=str(cadre.id))

    plan, round_id = uuid.uuid4(), uuid.uuid4()
    rounds = [RoundSnapshot(id=round_id, number=1, starts_on=date(2023, 3, 1), ends_on=date(2023, 6, 30))]
    await feed.send(ExamPlanPublished(plan_id=plan, board_unit="VN.68", year=2023, title="Kế hoạch 138-KH", rounds=rounds))
    outcomes = ["attended"] * 9 + ["no_show", "no_show", "cancelled"]
    for cadre, outcome in zip(p2, outcomes, strict=True):
        invitation = uuid.uuid4()
        await feed.send(
            InvitationIssued(
                invitation_id=invitation,
                plan_id=plan,
                round_id=round_id,
                cadre_id=cadre.id,
                tier=cadre.tier,
                managing_unit="VN.68",
                facility="68-BVDK",
                appointment_date=date(2023, 4, 10),
            ),
            subject=str(invitation),
        )
        await feed.send(
            InvitationStatusChanged(
                invitation_id=invitation,
                plan_id=plan,
                round_id=round_id,
                cadre_id=cadre.id,
                previous_status="invited",
                status=outcome,
                effective_date=date(2023, 4, 10),
            ),
            subject=str(invitation),
        )
    codes = ["A", "A", "A", "B1", "B1", "B1", "B1", "C", "C"]
    exams = []
    for cadre, code in zip(p2, codes, strict=False):
        exams.append(
            await record(
                feed,
                cadre,
                EncounterKind.PERIODIC_EXAM,
                date(2023, 4, 10),
                plan_id=plan,
                round_id=round_id,
                classification=classified(code),
            )
        )
    amended = exams[6].model_copy(update={"version": 2, "classification": classified("B2")})
    await feed.send(
        ClinicalRecordAmended(record=amended, previous_version=1),
        subject=str(amended.cadre_id),
        managing_unit="VN.68",
        tier=ManagementTier.PROVINCIAL_2,
    )
    mistaken = await record(feed, p2[9], EncounterKind.PERIODIC_EXAM, date(2023, 4, 11), classification=classified("A"))
    await feed.send(
        ClinicalRecordWithdrawn(record=mistaken, reason="wrong patient"),
        subject=str(mistaken.cadre_id),
        managing_unit="VN.68",
        tier=ManagementTier.PROVINCIAL_2,
    )

    for day in (date(2023, 2, 3), date(2023, 2, 20)):
        await record(feed, p2[0], EncounterKind.OUTPATIENT_VISIT, day, diagnoses=["I10"])
    for cadre in p2[1:4]:
        await record(feed, cadre, EncounterKind.OUTPATIENT_VISIT, date(2023, 3, 5), diagnoses=["I10"] if cadre is p2[1] else [])
    await record(feed, p2[2], EncounterKind.ADMISSION, date(2023, 3, 7), ended_on=date(2023, 3, 12), diagnoses=["I11", "E11"])
    await record(feed, p2[3], EncounterKind.ADMISSION, date(2023, 5, 1), diagnoses=["E11.9"])
    await record(feed, p2[3], EncounterKind.REFERRAL, date(2023, 5, 2), referral_kind=ReferralKind.HIGHER_LEVEL)
    for cadre in p2[4:6]:
        await record(feed, cadre, EncounterKind.REFERRAL, date(2023, 5, 3), referral_kind=ReferralKind.IN_PROVINCE)
    await record(feed, district[0], EncounterKind.HOME_VISIT, date(2023, 6, 1), at_home=True)
    for cadre in binh_dinh:
        await record(feed, cadre, EncounterKind.PERIODIC_EXAM, date(2023, 5, 15), classification=classified("A"))
    await record(feed, central[0], EncounterKind.PERIODIC_EXAM, date(2023, 5, 15), classification=classified("C"))
    return p2, district


async def summary(world: World, principal: Principal, unit_path: str, **params: str) -> httpx.Response:
    return await world.http.get("/summary", params={"unit": unit_path, **PERIOD, **params}, headers=world.sign(principal))


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]
