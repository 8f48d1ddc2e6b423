"""The throwaway PostgreSQL cluster of tests and benches: a database of its own per service."""

import asyncpg

from servicekit.embedded import PostgresCluster


async def test_each_database_created_is_new_empty_and_reached_at_its_url(postgres_cluster: PostgresCluster) -> None:
    urls = [postgres_cluster.create_database(name) for name in ("bench_registry", "bench_clinical")]
    assert urls == [postgres_cluster.url("bench_registry"), postgres_cluster.url("bench_clinical")]
    for url, name in zip(urls, ("bench_registry", "bench_clinical"), strict=True):
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
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
        connection = await asyncpg.connect(cluster.url().replace("postgresql+asyncpg", "postgresql"))
        try:
            assert await connection.fetchval("SHOW autovacuum_naptime") == "1s"
            assert await connection.fetchval("SHOW work_mem") == "8MB"
            assert await connection.fetchval("SHOW fsync") == "off"  # the throwaway defaults stay
        finally:
            await connection.close()
    finally:
        cluster.stop()
