"""The Lâm Đồng boards' principals and two cadres (one in Đà Lạt, one in Bảo Lộc), shared by the API tests
of grants, audit, break the glass and sign-in."""

import uuid
from typing import Any

from gateway_harness import InProcessPlatform, PlatformFactory, client, user

from contracts import roles
from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, PrincipalKind
from devstack.demo import demo_units
from gateway.identity import PrincipalsFile

API = "/api/v1"


def principals() -> PrincipalsFile:
    return PrincipalsFile(
        users=[
            user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS),
            user("lamdong", PrincipalKind.STAFF, roles.provincial_board("VN.68"), roles.STAFF_PERMISSIONS),
            user("dalat", PrincipalKind.STAFF, roles.district_board("VN.68.672"), roles.STAFF_PERMISSIONS),
            user("baoloc", PrincipalKind.STAFF, roles.district_board("VN.68.673"), roles.STAFF_PERMISSIONS),
            user("dilinh", PrincipalKind.STAFF, roles.district_board("VN.68.674"), roles.STAFF_PERMISSIONS),
            user("auditor-dalat", PrincipalKind.AUDITOR, roles.auditor("VN.68.672"), roles.AUDITOR_PERMISSIONS),
            user(
                "lamdong-admin",
                PrincipalKind.ADMIN,
                (Grant(unit_path="VN.68", tiers=frozenset(ManagementTier), actions=frozenset({Action.READ, Action.WRITE})),),
                roles.ADMIN_PERMISSIONS,
            ),
        ],
        clients=[client("his-bvdk", roles.his_client("VN.68"), roles.HIS_PERMISSIONS)],
    )


def new_cadre(unit: str, tier: str = "district", **extra: Any) -> dict[str, Any]:
    return {
        "full_name": "Trần Văn Kiểm",
        "date_of_birth": "1958-03-02",
        "sex": "male",
        "national_id": f"068058{uuid.uuid4().int % 10**6:06d}",  # province 068, male born 19(58)
        "tier": tier,
        "managing_unit": unit,
        "status": "retired",
        "status_since": "2020-01-01",  # before 2025-07-01: the district tier was still managed then
        **extra,
    }


async def seeded(make_platform: PlatformFactory, database_url: str, **overrides: Any) -> tuple[InProcessPlatform, dict[str, str]]:
    platform = await make_platform(principals(), gateway_database_url=database_url, **overrides)
    admin = await platform.headers("admin")
    (await platform.http.post(f"{API}/registry/units/import", json=demo_units(), headers=admin)).raise_for_status()
    ids = {}
    for name, unit in (("dalat", "VN.68.672"), ("baoloc", "VN.68.673")):
        answer = await platform.http.post(f"{API}/registry/cadres", json=new_cadre(unit), headers=admin)
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()["id"]
    await platform.deliver()
    return platform, ids
