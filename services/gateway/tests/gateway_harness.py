"""Test harness (imported by the gateway's tests; conftest puts this directory on sys.path).

The gateway in front of the real service apps, in process: the gateway's upstream client is mounted on
each service's ASGI app, and events are carried from every outbox to every consumer by calling the
consumers' own `process` (idempotency and positions included) instead of going through a broker."""

import importlib
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI

from contracts.envelope import DomainEvent
from contracts.scope import Grant, PrincipalKind
from gateway import projections
from gateway.app import create_app as create_gateway
from gateway.context import Gateway
from gateway.identity import ClientRecord, PrincipalsFile, UserRecord, write_principals
from gateway.settings import GatewaySettings
from servicekit import migrations
from servicekit.consumer import EventConsumer
from servicekit.runtime import Runtime
from servicekit.testing.events import EventFeed, outbox_records
from servicekit.testing.principals import RoleGrants, principal_for

SERVICES = ("registry", "scheduling", "clinical", "reporting")
_cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # verification reads the cost from the hash


def cheap_hash(secret: str) -> str:
    return _cheap.hash(secret)


def user(username: str, kind: PrincipalKind, grants: Sequence[Grant], permissions: Sequence[str]) -> UserRecord:
    return UserRecord(
        username=username,
        password_hash=cheap_hash(f"{username}-pw"),
        kind=kind,
        display_name=username,
        grants=list(grants),
        permissions=sorted(permissions),
    )


def user_in_role(username: str, role: RoleGrants, *units: str, kind: PrincipalKind | None = None) -> UserRecord:
    """A user the gateway signs in with `role` applied to `units`: the role's grants and its kind's permissions."""
    principal = principal_for(role, *units, kind=kind)
    return user(username, principal.kind, principal.grants, sorted(principal.permissions))


def client(client_id: str, grants: Sequence[Grant], permissions: Sequence[str], facility: str = "68-BVDK") -> ClientRecord:
    return ClientRecord(
        client_id=client_id,
        secret_hash=cheap_hash(f"{client_id}-secret"),
        display_name=client_id,
        facility=facility,
        grants=list(grants),
        permissions=sorted(permissions),
    )


_TEMPLATES: dict[str, Path] = {}


def migrated_sqlite(package: str, target: Path) -> str:
    """A SQLite database at `target` with the package's migrations applied (copied from a template migrated once)."""
    template = _TEMPLATES.get(package)
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="cadrecare-template-")) / f"{package}.db"
        migrations.upgrade(package, f"sqlite+aiosqlite:///{template}")
        _TEMPLATES[package] = template
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


def _service_consumers(service: str, runtime: Runtime[Any]) -> list[EventConsumer]:
    try:
        module = importlib.import_module(f"{service}.projections")
    except ModuleNotFoundError:
        return []
    make: Callable[[Runtime[Any]], list[EventConsumer]] | None = getattr(module, "consumers", None)
    return list(make(runtime)) if make else []


@dataclass
class InProcessPlatform:
    gateway_app: FastAPI
    gateway: Gateway
    services: dict[str, FastAPI]
    http: httpx.AsyncClient
    consumers: list[EventConsumer]
    delivered: dict[str, int] = field(default_factory=dict)
    _feed: EventFeed | None = None

    async def token(self, username: str) -> str:
        answer = await self.http.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": f"{username}-pw"}
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    async def client_token(self, client_id: str) -> str:
        answer = await self.http.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": f"{client_id}-secret"},
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    async def headers(self, username: str) -> dict[str, str]:
        return {"authorization": f"Bearer {await self.token(username)}"}

    @property
    def feed(self) -> EventFeed:
        """servicekit's event feed on every consumer of the platform (the gateway's and the services')."""
        if self._feed is None:
            self._feed = EventFeed(self.consumers, source="cadrecare/registry")
        return self._feed

    async def deliver(self) -> int:
        """Carry every new outbox row of every service to every consumer of its topic; returns how many rows."""
        carried = 0
        for name, app in self.services.items():
            runtime: Runtime[Any] = app.state.runtime
            for row_id, record in await outbox_records(runtime.db, runtime.tables, after=self.delivered.get(name, 0)):
                await self.feed.deliver(record)
                self.delivered[name] = row_id
                carried += 1
        return carried

    async def publish_to_gateway(self, event: DomainEvent, subject: str) -> None:
        """An event as if the registry had published it (for events no service API makes yet)."""
        gateway_consumers = [consumer for consumer in self.consumers if consumer.name.startswith("gateway")]
        await self.feed.send(event, subject=subject, only=gateway_consumers)


PlatformFactory = Callable[..., Awaitable[InProcessPlatform]]


def assemble(
    tmp_path: Path,
    internal_keys: tuple[bytes, Path],
    principals: PrincipalsFile,
    *,
    gateway_database_url: str | None = None,
    replace: dict[str, Any] | None = None,
    **overrides: Any,
) -> tuple[FastAPI, dict[str, FastAPI]]:
    """The gateway app (lifespan not started) mounted on the service apps. `replace` swaps a service's app
    for another ASGI app (e.g. a deliberately slow one)."""
    keys_private = tmp_path / "keys" / "internal-private.pem"
    public = internal_keys[1]
    services: dict[str, FastAPI] = {}
    mounts: dict[str, httpx.AsyncBaseTransport] = {}
    for service in SERVICES:
        url = migrated_sqlite(service, tmp_path / f"{service}.db")
        module = importlib.import_module(f"{service}.app")
        settings_module = importlib.import_module(f"{service}.settings")
        settings_class = next(
            getattr(settings_module, n) for n in dir(settings_module) if n.endswith("Settings") and n != "ServiceSettings"
        )
        settings = settings_class(
            data_dir=tmp_path, database_url=url, internal_public_key_file=public, log_json=False, log_level="WARNING"
        )
        app: FastAPI = module.create_app(settings, run_workers=False)
        services[service] = app
        mounted = (replace or {}).get(service, app)
        mounts[f"http://{service}.internal"] = httpx.ASGITransport(app=mounted)
    if gateway_database_url is None or gateway_database_url.startswith("sqlite"):
        gateway_url = migrated_sqlite("gateway", tmp_path / "gateway.db")
    else:
        gateway_url = gateway_database_url
        migrations.upgrade("gateway", gateway_url)
    principals_file = tmp_path / "gateway" / "principals.json"
    write_principals(principals_file, principals)
    gateway_settings = GatewaySettings(
        data_dir=tmp_path,
        database_url=gateway_url,
        principals_file=principals_file,
        internal_private_key_file=keys_private,
        internal_public_key_file=public,
        log_json=False,
        log_level="WARNING",
        **{f"{s}_url": f"http://{s}.internal" for s in SERVICES},
        **overrides,
    )
    return create_gateway(gateway_settings, run_workers=False, mounts=mounts), services


async def build_platform(
    stack: AsyncExitStack,
    tmp_path: Path,
    internal_keys: tuple[bytes, Path],
    principals: PrincipalsFile,
    **options: Any,
) -> InProcessPlatform:
    gateway_app, services = assemble(tmp_path, internal_keys, principals, **options)
    for app in services.values():
        stack.push_async_callback(app.state.runtime.db.dispose)
    await stack.enter_async_context(gateway_app.router.lifespan_context(gateway_app))
    gateway: Gateway = gateway_app.state.gateway
    http = await stack.enter_async_context(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway_app), base_url="http://gateway.test", timeout=30)
    )
    consumers = projections.consumers(gateway.runtime, gateway.grants)
    for service, app in services.items():
        consumers += _service_consumers(service, app.state.runtime)
    return InProcessPlatform(gateway_app, gateway, services, http, consumers)
