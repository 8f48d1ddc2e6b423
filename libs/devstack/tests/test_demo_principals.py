"""The demo principals are data the gateway turns into its principals file: devstack only ships the seed."""

import json
from pathlib import Path

from devstack import demo


def test_the_gateway_writes_the_demo_principals_once(tmp_path: Path) -> None:
    path = tmp_path / "gateway" / "principals.json"
    demo.ensure_demo_principals(path)
    written = json.loads(path.read_text())
    assert [user["username"] for user in written["users"]] == list(demo.DEMO_USERS)
    assert [client["client_id"] for client in written["clients"]] == list(demo.DEMO_CLIENTS)
    assert all(user["grants"] and user["permissions"] for user in written["users"])
    assert not set(demo.DEMO_USERS.values()) & set(path.read_text().split('"'))  # secrets are hashed

    path.write_text('{"users": [], "clients": []}')  # an administrator's edit
    demo.ensure_demo_principals(path)
    assert json.loads(path.read_text()) == {"users": [], "clients": []}
