"""The whole platform as processes, on free ports in a temp data directory, driven only through the gateway.

Starting a platform costs about ten seconds, so test modules share one by default: they create their own
units, cadres and records and assert on those, never on global totals. A module marked `own_stack` gets a
platform of its own: one that stops parts of it, reorganises units, or asserts exact totals for a province.
"""

import shutil
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from devstack import demo
from devstack.config import StackConfig
from devstack.stack import Stack


def stack_config(data_dir: Path) -> StackConfig:
    return StackConfig.on_free_ports(data_dir)


@contextmanager
def started_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = stack_config(tmp_path_factory.mktemp("stack"))
    demo.ensure_demo_principals(config.data_dir / "gateway" / "principals.json")
    platform = Stack(config)
    try:
        platform.start(timeout=90)
        yield platform
    finally:
        platform.stop()


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with started_stack(tmp_path_factory) as platform:
        yield platform


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if request.node.get_closest_marker("own_stack") is None:
        yield request.getfixturevalue("shared_stack")
        return
    with started_stack(tmp_path_factory) as platform:
        yield platform


def login(stack: Stack, username: str) -> httpx.Client:
    client = httpx.Client(base_url=stack.config.gateway_url, timeout=15)
    answer = client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": demo.DEMO_USERS[username]}
    )
    answer.raise_for_status()
    client.headers["authorization"] = f"Bearer {answer.json()['access_token']}"
    return client


DEMO_HIS = "his-bvdk-lamdong"  # the demo hospital of Lâm Đồng (devstack.demo.DEMO_CLIENTS)


def his_login(stack: Stack, client_id: str = DEMO_HIS, timeout: float = 30) -> httpx.Client:
    """A hospital system signed in with the client-credentials grant."""
    client = httpx.Client(base_url=stack.config.gateway_url, timeout=timeout)
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": demo.DEMO_CLIENTS[client_id]}
    answer = client.post("/api/v1/auth/token", data=form)
    answer.raise_for_status()
    client.headers["authorization"] = f"Bearer {answer.json()['access_token']}"
    return client


@pytest.fixture(scope="module")
def his(stack: Stack) -> Iterator[httpx.Client]:
    with closing(his_login(stack)) as client:
        yield client


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[httpx.Client]:
    with closing(login(stack, "admin")) as client:
        client.post("/api/v1/registry/units/import", json=demo.demo_units()).raise_for_status()
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; without the background-networking flags it keeps trying hosts this
    closed network refuses."""
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()
