"""Seed 003 as events: Lâm Đồng's six-monthly report of 2023 rebuilt from the records it summarises.

The seed's figures (as of 31/5/2023): 1,380 cadres, up 6 since the end of 2022; central tier 3 active
and 10 retired; group 1: 15 + 39; group 2: 81 + 456; group 3: 776 stated as 266 active + 501 retired.
Those two do not add up (266 + 501 = 767): a register cannot hold 776 cadres that are 767, so this
scenario keeps the stated totals (776, 1,380) and the stated actives, which makes group 3 266 + 510.
Exams: 142 of 193 active group 2/3 (73.57%), 143 of 235 retired group 2 in Đà Lạt (60.85%),
classified A 63, B1 109, B2 82, C 31; central tier at Thống Nhất: 8 of 13, B1 2, B2 6.
From 1/1 to 31/5/2023: 3,289 outpatient visits, 188 admissions, 12 referrals to a higher level,
26 within the province, 45 home visits.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from contracts.codesystems import HEALTH_CLASSIFICATION_1266, CodedValue
from contracts.enums import CadreStatus, EncounterKind, ManagementTier, ReferralKind, Sex, UnitLevel
from contracts.envelope import DomainEvent
from contracts.events.clinical import ClinicalRecordRecorded, RecordSummary
from contracts.events.registry import CadreRegistered, CadreSnapshot, UnitCreated, UnitSnapshot
from contracts.events.scheduling import ExamPlanPublished, InvitationIssued, InvitationStatusChanged, RoundSnapshot

PROVINCE = "VN.68"
DALAT = "VN.68.672"
PERIOD = (date(2023, 1, 1), date(2023, 5, 31))
DISTRICTS = [
    ("672", "Thành phố Đà Lạt"),
    ("673", "Thành phố Bảo Lộc"),
    ("674", "Huyện Đam Rông"),
    ("675", "Huyện Lạc Dương"),
    ("676", "Huyện Lâm Hà"),
    ("677", "Huyện Đơn Dương"),
    ("678", "Huyện Đức Trọng"),
    ("679", "Huyện Di Linh"),
    ("680", "Huyện Bảo Lâm"),
    ("681", "Huyện Đạ Huoai"),
    ("682", "Huyện Đạ Tẻh"),
    ("683", "Huyện Cát Tiên"),
]
# tier -> (active, retired) as of 31/5/2023
TIER_SPLIT: dict[ManagementTier, tuple[int, int]] = {
    ManagementTier.CENTRAL: (3, 10),
    ManagementTier.PROVINCIAL_1: (15, 39),
    ManagementTier.PROVINCIAL_2: (81, 456),
    ManagementTier.PROVINCIAL_3: (266, 510),
}
NEW_IN_2023 = 6
CLASSIFICATION = {"A": 63, "B1": 109, "B2": 82, "C": 31}
CENTRAL_CLASSIFICATION = {"B1": 2, "B2": 6}
ACTIVITY = {
    EncounterKind.OUTPATIENT_VISIT: 3289,
    EncounterKind.ADMISSION: 188,
    EncounterKind.HOME_VISIT: 45,
}
REFERRALS = {ReferralKind.HIGHER_LEVEL: 12, ReferralKind.IN_PROVINCE: 26}


@dataclass
class Sent:
    event: DomainEvent
    subject: str
    managing_unit: str | None = None
    tier: ManagementTier | None = None


@dataclass
class Scenario:
    events: list[Sent] = field(default_factory=list)
    cadres: dict[ManagementTier, dict[CadreStatus, list[CadreSnapshot]]] = field(default_factory=dict)

    def add(self, event: DomainEvent, subject: str, managing_unit: str | None = None, tier: ManagementTier | None = None) -> None:
        self.events.append(Sent(event, subject, managing_unit, tier))


def _coded(code: str) -> CodedValue:
    return CodedValue(system=HEALTH_CLASSIFICATION_1266.system, version=HEALTH_CLASSIFICATION_1266.version, code=code)


def _units() -> list[UnitSnapshot]:
    start = date(2004, 1, 1)
    units = [
        UnitSnapshot(
            path="VN", code="VN", name="Việt Nam", level=UnitLevel.NATION, parent_path=None, valid_from=date(1976, 7, 2)
        ),
        UnitSnapshot(
            path=PROVINCE, code="68", name="Tỉnh Lâm Đồng", level=UnitLevel.PROVINCE, parent_path="VN", valid_from=start
        ),
    ]
    units += [
        UnitSnapshot(
            path=f"{PROVINCE}.{code}", code=code, name=name, level=UnitLevel.DISTRICT, parent_path=PROVINCE, valid_from=start
        )
        for code, name in DISTRICTS
    ]
    return units


def seed003(seed: int = 3) -> Scenario:
    rng = random.Random(seed)
    scenario = Scenario()
    for unit in _units():
        scenario.add(UnitCreated(unit=unit), unit.path)

    new_left = NEW_IN_2023
    for tier, (active, retired) in TIER_SPLIT.items():
        scenario.cadres[tier] = {CadreStatus.ACTIVE: [], CadreStatus.RETIRED: []}
        for status, count in ((CadreStatus.ACTIVE, active), (CadreStatus.RETIRED, retired)):
            for _ in range(count):
                new = tier is ManagementTier.PROVINCIAL_3 and status is CadreStatus.ACTIVE and new_left > 0
                new_left -= 1 if new else 0
                since = date(2023, 2, 1) if new else (date(2020, 1, 1) if status is CadreStatus.ACTIVE else date(2012, 1, 1))
                cadre = CadreSnapshot(
                    id=uuid.UUID(int=rng.getrandbits(128)),
                    full_name="Cán bộ",
                    date_of_birth=date(1955, 1, 1),
                    sex=Sex.MALE,
                    national_id="068055000000",
                    tier=tier,
                    status=status,
                    status_since=since,
                    managing_unit=PROVINCE,
                    residence_unit=DALAT if tier is ManagementTier.PROVINCIAL_2 and status is CadreStatus.RETIRED else None,
                )
                scenario.cadres[tier][status].append(cadre)
                scenario.add(CadreRegistered(cadre=cadre), str(cadre.id), PROVINCE, tier)

    provincial_plan = _plan(scenario, rng, PROVINCE, "Kế hoạch 138-KH/BBVCSSKCB", date(2023, 3, 1), date(2023, 6, 30))
    central_plan = _plan(scenario, rng, "VN", "Kế hoạch 58-KH/HĐBVSKCBMN", date(2023, 3, 1), date(2023, 3, 1))
    groups = scenario.cadres
    active_2_3 = (
        groups[ManagementTier.PROVINCIAL_2][CadreStatus.ACTIVE] + groups[ManagementTier.PROVINCIAL_3][CadreStatus.ACTIVE][:112]
    )
    retired_2 = groups[ManagementTier.PROVINCIAL_2][CadreStatus.RETIRED][:235]
    codes = [code for code, n in CLASSIFICATION.items() for _ in range(n)]
    rng.shuffle(codes)
    examined = _invite(scenario, rng, provincial_plan, active_2_3, 142, date(2023, 4, 12))
    examined += _invite(scenario, rng, provincial_plan, retired_2, 143, date(2023, 4, 19))
    for cadre, code in zip(examined, codes, strict=True):
        _record(
            scenario, rng, cadre, EncounterKind.PERIODIC_EXAM, date(2023, 4, 20), provincial_plan, classification=_coded(code)
        )
    central = groups[ManagementTier.CENTRAL]
    central_all = central[CadreStatus.ACTIVE] + central[CadreStatus.RETIRED]
    central_attending = central[CadreStatus.ACTIVE] + central[CadreStatus.RETIRED][:5]
    central_codes = [code for code, n in CENTRAL_CLASSIFICATION.items() for _ in range(n)]
    attended = _invite(scenario, rng, central_plan, central_all, 8, date(2023, 3, 1), central_attending)
    for cadre, code in zip(attended, central_codes, strict=True):
        _record(scenario, rng, cadre, EncounterKind.PERIODIC_EXAM, date(2023, 3, 1), central_plan, classification=_coded(code))

    everyone = [c for by_status in groups.values() for cadres in by_status.values() for c in cadres]
    frail = central[CadreStatus.RETIRED] + groups[ManagementTier.PROVINCIAL_1][CadreStatus.RETIRED]
    start, end = PERIOD
    span = (end - start).days
    for kind, count in ACTIVITY.items():
        pool = frail if kind is EncounterKind.HOME_VISIT else everyone
        for _ in range(count):
            _record(scenario, rng, rng.choice(pool), kind, start + timedelta(days=rng.randrange(span + 1)), None)
    for referral, count in REFERRALS.items():
        for _ in range(count):
            day = start + timedelta(days=rng.randrange(span + 1))
            _record(scenario, rng, rng.choice(everyone), EncounterKind.REFERRAL, day, None, referral_kind=referral)
    return scenario


@dataclass(frozen=True)
class _Plan:
    plan_id: uuid.UUID
    round_id: uuid.UUID


def _plan(scenario: Scenario, rng: random.Random, board: str, title: str, starts: date, ends: date) -> _Plan:
    plan = _Plan(uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128)))
    rounds = [RoundSnapshot(id=plan.round_id, number=1, starts_on=starts, ends_on=ends)]
    scenario.add(
        ExamPlanPublished(plan_id=plan.plan_id, board_unit=board, year=2023, title=title, rounds=rounds), str(plan.plan_id)
    )
    return plan


def _invite(
    scenario: Scenario,
    rng: random.Random,
    plan: _Plan,
    cadres: list[CadreSnapshot],
    attending: int,
    day: date,
    attendees: list[CadreSnapshot] | None = None,
) -> list[CadreSnapshot]:
    chosen = attendees if attendees is not None else rng.sample(cadres, attending)
    came = {c.id for c in chosen}
    for cadre in cadres:
        invitation = uuid.UUID(int=rng.getrandbits(128))
        scenario.add(
            InvitationIssued(
                invitation_id=invitation,
                plan_id=plan.plan_id,
                round_id=plan.round_id,
                cadre_id=cadre.id,
                tier=cadre.tier,
                managing_unit=cadre.managing_unit,
                facility="68-BVDK",
                appointment_date=day,
            ),
            str(invitation),
        )
        status = "attended" if cadre.id in came else rng.choice(["deferred", "no_show"])
        scenario.add(
            InvitationStatusChanged(
                invitation_id=invitation,
                plan_id=plan.plan_id,
                round_id=plan.round_id,
                cadre_id=cadre.id,
                previous_status="invited",
                status=status,
                effective_date=day,
            ),
            str(invitation),
        )
    return [c for c in cadres if c.id in came]


def _record(
    scenario: Scenario,
    rng: random.Random,
    cadre: CadreSnapshot,
    kind: EncounterKind,
    day: date,
    plan: _Plan | None,
    **fields: object,
) -> None:
    summary = RecordSummary.model_validate(
        {
            "record_id": uuid.UUID(int=rng.getrandbits(128)),
            "version": 1,
            "kind": kind,
            "cadre_id": cadre.id,
            "facility": "68-BVDK",
            "external_id": f"HIS-{rng.getrandbits(40):x}",
            "occurred_on": day,
            "plan_id": plan.plan_id if plan else None,
            "round_id": plan.round_id if plan else None,
            "at_home": kind is EncounterKind.HOME_VISIT,
            **fields,
        }
    )
    scenario.add(ClinicalRecordRecorded(record=summary), str(cadre.id), cadre.managing_unit, cadre.tier)
