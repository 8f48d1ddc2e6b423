"""Everything a running service holds: settings, database, outbox, broker, caller verification."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.auth import InternalTokenVerifier
from servicekit.broker import Broker, BrokerSecurity
from servicekit.db import Database
from servicekit.outbox import Outbox
from servicekit.settings import ServiceSettings
from servicekit.tables import KitTables, kit_tables

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


@dataclass
class Runtime(Generic[SettingsT]):
    """Typed by its service's settings class (`Runtime[RegistrySettings]`), so a service reads its own
    settings from `runtime.settings` as they are declared."""

    settings: SettingsT
    db: Database
    tables: KitTables
    outbox: Outbox
    broker: Broker
    verifier: InternalTokenVerifier


_KIT_TABLES: dict[int, KitTables] = {}


def kit_tables_of(metadata: MetaData) -> KitTables:
    """The runtime tables on a service's metadata, defined once (tables.py and migrations share them)."""
    if id(metadata) not in _KIT_TABLES:
        _KIT_TABLES[id(metadata)] = kit_tables(metadata)
    return _KIT_TABLES[id(metadata)]


def broker_of(settings: ServiceSettings, client_id: str | None = None) -> Broker:
    """The broker client a service's settings describe (address, partitions, groups, TLS and SASL user)."""
    return Broker(
        settings.kafka_bootstrap,
        idempotence=settings.kafka_idempotence,
        partitions=settings.kafka_partitions,
        client_id=client_id or f"cadrecare-{settings.service_name}",
        consumer_group_prefix=settings.consumer_group_prefix,
        create_topics=settings.kafka_create_topics,
        security=BrokerSecurity(
            protocol=settings.kafka_security_protocol,
            sasl_mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value(),
            ca_file=settings.kafka_ssl_cafile,
        ),
    )


def build_runtime(settings: SettingsT, metadata: MetaData) -> Runtime[SettingsT]:
    tables = kit_tables_of(metadata)
    return Runtime(
        settings=settings,
        db=Database(settings.database_url, echo=settings.database_echo, one_writer=settings.sqlite_one_writer),
        tables=tables,
        outbox=Outbox(tables, source=f"cadrecare/{settings.service_name}"),
        broker=broker_of(settings),
        verifier=InternalTokenVerifier(settings.internal_public_key_file, settings.internal_audience),
    )


async def get_runtime(request: Request) -> Runtime[Any]:
    """The running service's runtime; a service annotates it with its own settings class:
    `Annotated[Runtime[RegistrySettings], Depends(get_runtime)]`. Async: a sync dependency runs in a thread."""
    runtime: Runtime[Any] = request.app.state.runtime
    return runtime


READ_METHODS = frozenset({"GET", "HEAD"})


async def transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (scope="function").
    GET and HEAD only read, so on SQLite they take no write lock. A write transaction's session is
    left on request.state, where the Idempotency-Key route stores its answer before the commit."""
    db = (await get_runtime(request)).db
    if request.method in READ_METHODS:
        async with db.read() as session:
            yield session
        return
    async with db.transaction() as session:
        request.state.write_session = session
        try:
            yield session
        finally:
            request.state.write_session = None


async def transaction_if_keyed(request: Request) -> AsyncIterator[AsyncSession | None]:
    """The request's transaction (as `transaction`) when it carries an Idempotency-Key, whose answer must
    commit with the effect; else None, and the route writes in a transaction of its own making (clinical's
    group commit of single records)."""
    if "idempotency-key" not in request.headers:
        yield None
        return
    async with asynccontextmanager(transaction)(request) as session:
        yield session


RuntimeDep = Annotated[Runtime[ServiceSettings], Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(transaction, scope="function")]
KeyedSessionDep = Annotated[AsyncSession | None, Depends(transaction_if_keyed, scope="function")]
