"""The throwaway PostgreSQL cluster of tests and benches: a database of its own per service."""

from pathlib import Path

import asyncpg

from servicekit.embedded import PostgresCluster, asyncpg_dsn


async def test_each_database_created_is_new_empty_and_reached_at_its_url(postgres_cluster: PostgresCluster) -> None:
    urls = [postgres_cluster.create_database(name) for name in ("bench_registry", "bench_clinical")]
    assert urls == [postgres_cluster.url("bench_registry"), postgres_cluster.url("bench_clinical")]
    for url, name in zip(urls, ("bench_registry", "bench_clinical"), strict=True):
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            assert await connection.fetchval("SELECT current_database()") == name
            tables = await connection.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            assert tables == 0
            await connection.execute("CREATE TABLE mine (n int)")  # one database's tables are not the other's
        finally:
            await connection.close()


async def test_a_cluster_started_with_settings_runs_with_them() -> None:
    cluster = PostgresCluster(settings={"autovacuum_naptime": "1", "work_mem": "8MB"}).start()
    try:
        connection = await asyncpg.connect(cluster.dsn())
        try:
            assert await connection.fetchval("SHOW autovacuum_naptime") == "1s"
            assert await connection.fetchval("SHOW work_mem") == "8MB"
            assert await connection.fetchval("SHOW fsync") == "off"  # the throwaway defaults stay
        finally:
            await connection.close()
    finally:
        cluster.stop()


def test_the_asyncpg_address_and_the_server_process_of_a_started_cluster(postgres_cluster: PostgresCluster) -> None:
    assert postgres_cluster.dsn("reporting") == f"postgresql://postgres@127.0.0.1:{postgres_cluster.port}/reporting"
    assert asyncpg_dsn("postgresql+asyncpg://u@h:5432/db?ssl=verify-full") == "postgresql://u@h:5432/db?ssl=verify-full"
    command = Path(f"/proc/{postgres_cluster.postmaster_pid}/cmdline").read_bytes().split(b"\0")
    assert str(postgres_cluster.data).encode() in command  # the postmaster serving this cluster's data directory
