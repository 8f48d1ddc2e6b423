"""The principals file of the identity administration tests: Lâm Đồng's boards and their administrators, as the
file seeds them (the tests then create everyone else through the API)."""

from typing import Any

from gateway_harness import InProcessPlatform, client, user

from contracts import roles
from contracts.scope import PrincipalKind
from gateway.identity import PrincipalsFile

API = "/api/v1"
PASSWORD = "Đà-Lạt mù sương 2026"  # meets the policy (12+ characters, 5+ different ones)


def boards() -> PrincipalsFile:
    return PrincipalsFile(
        users=[
            user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS),
            user("lamdong-admin", PrincipalKind.STAFF, roles.provincial_board_admin("VN.68"), roles.BOARD_ADMIN_PERMISSIONS),
            user("lamdong", PrincipalKind.STAFF, roles.provincial_board("VN.68"), roles.STAFF_PERMISSIONS),
            user("khanhhoa-admin", PrincipalKind.STAFF, roles.provincial_board_admin("VN.56"), roles.BOARD_ADMIN_PERMISSIONS),
            user("dalat-admin", PrincipalKind.STAFF, roles.district_board("VN.68.672"), roles.BOARD_ADMIN_PERMISSIONS),
            user("central-admin", PrincipalKind.STAFF, roles.central_board(), roles.BOARD_ADMIN_PERMISSIONS),
            user("auditor", PrincipalKind.AUDITOR, roles.auditor("VN"), roles.AUDITOR_PERMISSIONS),
        ],
        clients=[client("his-bvdk", roles.his_client("VN.68"), roles.HIS_PERMISSIONS)],
    )


def new_user(username: str, role: str, unit: str | None, **extra: Any) -> dict[str, Any]:
    return {"username": username, "display_name": username.title(), "password": PASSWORD, "role": role, "unit": unit, **extra}


async def sign_in(platform: InProcessPlatform, username: str, password: str = PASSWORD) -> int:
    answer = await platform.http.post(
        f"{API}/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )
    return answer.status_code


async def bearer(platform: InProcessPlatform, username: str, password: str = PASSWORD) -> dict[str, str]:
    answer = await platform.http.post(
        f"{API}/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


async def client_token(platform: InProcessPlatform, client_id: str, secret: str) -> tuple[int, dict[str, Any]]:
    answer = await platform.http.post(
        f"{API}/auth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    return answer.status_code, answer.json()
