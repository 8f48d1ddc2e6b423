"""The embedded platform stopped and started again, as `make run` twice: events keep flowing to every
consumer, and what a lagging consumer had not read when the platform stopped still reaches it.

The broker keeps its log in memory, so every start is a new, empty broker with a new cluster id.
Every read model is watched: reporting's counts, scheduling's roster, clinical's patients and the
gateway's cadre scopes (which break-the-glass looks up).
"""

import signal
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from contracts.enums import ManagementTier
from contracts.scope import Action, Grant, Principal, PrincipalKind
from devstack import demo
from devstack.stack import Stack, StackError
from servicekit.auth import InternalTokenSigner
from tests.e2e.conftest import login, stack_config
from tests.e2e.helpers import eventually, new_cadre

pytestmark = pytest.mark.e2e
UNIT = "VN.68.677"  # Đơn Dương: a district of its own for this module
CONSUMING_SERVICES = ("scheduling", "clinical", "reporting")


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = stack_config(tmp_path_factory.mktemp("restart"))
    demo.ensure_demo_principals(config.data_dir / "gateway" / "principals.json")
    platform = Stack(config)
    platform.start(timeout=90)
    try:
        with closing(login(platform, "admin")) as admin:
            admin.post("/api/v1/registry/units/import", json=demo.demo_units()).raise_for_status()
        yield platform
    finally:
        platform.stop()


def restart(stack: Stack) -> str:
    """Stop every process, as Ctrl-C does, and start the platform again on the same data; the new cluster id."""
    before = stack.broker.cluster_id
    stack.stop()
    stack.start(timeout=90)
    assert stack.broker.cluster_id != before  # a new, empty broker: the case under test
    return stack.broker.cluster_id


def counts(admin: httpx.Client) -> dict[str, int]:
    """How many cadres of UNIT each read model holds (and the registry itself)."""
    registry = admin.get("/api/v1/registry/cadres", params={"unit": UNIT, "limit": 1}).json()["total"]
    reporting = admin.get("/api/v1/reporting/cadre-counts", params={"unit": UNIT}).json()["total"]
    return {"registry": registry, "reporting": reporting}


def roster_sizes(admin: httpx.Client) -> dict[str, int]:
    """Platform-wide sizes of the read models that have no per-unit count."""
    return {
        "scheduling": admin.get("/api/v1/scheduling/roster/summary").json()["cadres"],
        "clinical": admin.get("/api/v1/clinical/patients/summary").json()["cadres"],
    }


def gateway_knows(admin: httpx.Client, cadre_id: str) -> bool:
    """The gateway's own read model: break-the-glass answers 409 in_scope for a cadre it knows, 404 otherwise."""
    lookup = {"cadre_id": cadre_id, "reason": "restart test: does the gateway know this cadre?"}
    answer = admin.post("/api/v1/gateway/break-glass", json=lookup)
    assert answer.status_code in (404, 409), answer.text
    return answer.status_code == 409


def register(admin: httpx.Client, how_many: int) -> list[str]:
    ids = []
    for _ in range(how_many):
        answer = admin.post("/api/v1/registry/cadres", json=new_cadre(unit=UNIT))
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    return ids


def all_follow(admin: httpx.Client, expected_unit: int, expected_sizes: dict[str, int], last_id: str) -> bool:
    return (
        counts(admin) == {"registry": expected_unit, "reporting": expected_unit}
        and roster_sizes(admin) == expected_sizes
        and gateway_knows(admin, last_id)
    )


def test_after_a_restart_every_read_model_follows_new_writes(restartable: Stack) -> None:
    with closing(login(restartable, "admin")) as admin:
        before, sizes = counts(admin)["registry"], roster_sizes(admin)
        register(admin, 3)
        eventually(lambda: counts(admin)["reporting"] == before + 3, timeout=30)
    restart(restartable)
    with closing(login(restartable, "admin")) as admin:
        ids = register(admin, 10)
        grown = {name: size + 13 for name, size in sizes.items()}
        assert eventually(lambda: all_follow(admin, before + 13, grown, ids[-1]), timeout=60)


def test_what_lagging_consumers_had_not_read_reaches_them_after_a_restart(restartable: Stack) -> None:
    with closing(login(restartable, "admin")) as admin:
        before, sizes = counts(admin)["registry"], roster_sizes(admin)
        eventually(lambda: counts(admin)["reporting"] == before, timeout=30)
    for service in CONSUMING_SERVICES:  # paused: each lags behind the registry from here on
        restartable.processes[service].send_signal(signal.SIGSTOP)
    with closing(login(restartable, "admin")) as admin:
        register(admin, 40)
        assert counts_registry_only(admin) == before + 40
    for service in CONSUMING_SERVICES:  # killed while paused: they never read those 40 from this broker
        restartable.stop_process(service, sig=signal.SIGKILL)
    restart(restartable)
    with closing(login(restartable, "admin")) as admin:
        grown = {name: size + 40 for name, size in sizes.items()}
        assert eventually(lambda: counts(admin)["reporting"] == before + 40 and roster_sizes(admin) == grown, timeout=60)


def test_what_the_gateway_had_not_read_reaches_it_after_a_restart(restartable: Stack) -> None:
    """The gateway consumes too: paused, registry writes go straight to the registry service."""
    restartable.processes["gateway"].send_signal(signal.SIGSTOP)
    ids = [str(post_to_registry_directly(restartable)) for _ in range(5)]
    restartable.stop_process("gateway", sig=signal.SIGKILL)
    restart(restartable)
    with closing(login(restartable, "admin")) as admin:
        assert eventually(lambda: all(gateway_knows(admin, cadre_id) for cadre_id in ids), timeout=60)


def counts_registry_only(admin: httpx.Client) -> int:
    total: int = admin.get("/api/v1/registry/cadres", params={"unit": UNIT, "limit": 1}).json()["total"]
    return total


def post_to_registry_directly(stack: Stack) -> uuid.UUID:
    """A registry write without the gateway: an internal token signed with the platform's own key."""
    signer = InternalTokenSigner(Path(stack.config.keys_dir / "internal-private.pem").read_bytes())
    writer = Principal(
        subject="user:restart-test",
        kind=PrincipalKind.ADMIN,
        grants=(Grant(unit_path="VN", tiers=frozenset(ManagementTier), actions=frozenset(Action)),),
        permissions=frozenset({"registry.cadres.write"}),
    )
    answer = httpx.post(
        f"{stack.config.service_url('registry')}/cadres",
        json=new_cadre(unit=UNIT),
        headers={"authorization": f"Bearer {signer.sign(writer)}"},
        timeout=15,
    )
    assert answer.status_code == 201, answer.text
    return uuid.UUID(answer.json()["id"])


def test_a_crashed_service_is_restarted_and_catches_up(restartable: Stack) -> None:
    restartable.processes["reporting"].send_signal(signal.SIGKILL)
    restartable.processes["reporting"].wait(10)
    said: list[str] = []
    restartable.supervise(report=said.append)
    assert said and said[0].startswith("reporting exited with -9; restarting it (1 of 5 allowed")
    restartable.wait_ready(60)
    with closing(login(restartable, "admin")) as admin:
        before = counts_registry_only(admin)
        register(admin, 2)
        assert eventually(lambda: counts(admin) == {"registry": before + 2, "reporting": before + 2}, timeout=60)


def test_a_crash_loop_stops_the_platform(tmp_path: Path) -> None:
    stack = Stack(stack_config(tmp_path))  # nothing started: only the crash bookkeeping is exercised
    said: list[str] = []
    for _ in range(5):
        stack._count_crash("clinical", 1, said.append)
    with pytest.raises(StackError, match="clinical crashed 6 times"):
        stack._count_crash("clinical", 1, said.append)
    assert len(said) == 5
