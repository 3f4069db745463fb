"""The shared pieces of the read path, with a fake reader that counts statements: key lookups and
dataset-version reads are shared by concurrent requests, never trusted when a write overtook them,
and read afresh on every request when the TTL is 0; the read-path warm-up never stops a start."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy.engine import Result

from api.auth import KeyCache, hash_secret
from api.cache import ResponseCache
from api.features.warmup import warm_read_paths
from tests.api.conftest import BACKENDS


class _Row:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class _Rows(list):  # type: ignore[type-arg]
    def first(self) -> Any:
        return self[0] if self else None


class FakeReader:
    """Answers each statement after a pause (so that callers overlap) with `rows()`."""

    def __init__(self, rows: Any, pause: float = 0.01) -> None:
        self.rows, self.pause, self.statements = rows, pause, 0
        self.release: asyncio.Event | None = None

    async def execute(self, statement: Any) -> Result[Any]:
        self.statements += 1
        rows = _Rows(self.rows())  # the database's state when the statement starts
        if self.release is not None:
            await self.release.wait()
        await asyncio.sleep(self.pause)
        return rows  # type: ignore[return-value]


def _versions(calendar: int) -> Any:
    return lambda: [_Row(name="calendar", version=calendar), _Row(name="officers", version=1)]


async def test_concurrent_first_requests_with_one_key_share_one_lookup() -> None:
    secret = "s3cret"
    reader = FakeReader(lambda: [_Row(secret_hash=hash_secret(secret), role="planner", revoked_at=None)])
    cache = KeyCache(ttl=5.0)
    found = await asyncio.gather(*(cache.verified(f"mep_abc_{secret}", reader) for _ in range(20)))
    assert {p.role for p in found if p} == {"planner"} and len(found) == 20
    assert reader.statements == 1
    await cache.verified(f"mep_abc_{secret}", reader)  # now cached
    assert reader.statements == 1
    assert await cache.verified("mep_abc_wrong", reader) is None  # a wrong secret is its own lookup
    assert reader.statements == 2


async def test_a_lookup_under_way_when_the_key_is_revoked_answers_no_later_request() -> None:
    secret, revoked = "s3cret", [False]
    reader = FakeReader(
        lambda: [
            _Row(secret_hash=hash_secret(secret), role="planner", revoked_at="now" if revoked[0] else None)
        ]
    )
    reader.release = asyncio.Event()
    cache = KeyCache(ttl=5.0)
    early = asyncio.ensure_future(cache.verified(f"mep_abc_{secret}", reader))
    await asyncio.sleep(0.005)  # its lookup has read the row: not revoked yet
    revoked[0] = True
    cache.forget("abc")  # the revocation committed through this process
    late = asyncio.ensure_future(cache.verified(f"mep_abc_{secret}", reader))
    await asyncio.sleep(0.005)
    reader.release.set()
    assert (await early) is not None  # it arrived before the revocation
    assert (await late) is None  # its own lookup sees the revocation
    assert reader.statements == 2
    reader.release = None
    assert await cache.verified(f"mep_abc_{secret}", reader) is None  # nothing was cached


async def test_a_failed_lookup_is_not_cached() -> None:
    reader = FakeReader(lambda: [])
    cache = KeyCache(ttl=5.0)
    assert await cache.verified("mep_nokey_x", reader) is None
    assert await cache.verified("mep_nokey_x", reader) is None
    assert reader.statements == 2


async def test_a_burst_after_a_write_reads_the_versions_once() -> None:
    reader = FakeReader(_versions(7))
    cache = ResponseCache(version_ttl=60.0)
    results = await asyncio.gather(*(cache.versions(reader) for _ in range(30)))
    assert all(r == {"calendar": 7, "officers": 1} for r in results)
    assert reader.statements == 1
    await cache.versions(reader)
    assert reader.statements == 1  # fresh for the TTL
    cache.versions_stale()  # a write through this process
    await cache.versions(reader)
    assert reader.statements == 2


async def test_a_version_read_overtaken_by_a_write_is_not_trusted() -> None:
    calendar = [7]
    reader = FakeReader(lambda: [_Row(name="calendar", version=calendar[0])])
    reader.release = asyncio.Event()
    cache = ResponseCache(version_ttl=60.0)
    in_flight = asyncio.ensure_future(cache.versions(reader))
    await asyncio.sleep(0.005)  # the read has started
    calendar[0] = 8
    cache.versions_stale()  # the write committed while the read was under way
    reader.release.set()
    await in_flight
    reader.release = None
    assert await cache.versions(reader) == {"calendar": 8}
    assert reader.statements == 2


async def test_with_a_zero_ttl_every_request_reads_the_versions() -> None:
    calendar = [1]
    reader = FakeReader(lambda: [_Row(name="calendar", version=calendar[0])], pause=0)
    cache = ResponseCache(version_ttl=0.0)
    assert await cache.versions(reader) == {"calendar": 1}
    calendar[0] = 2  # written by another process: nothing told this one
    assert await cache.versions(reader) == {"calendar": 2}
    assert reader.statements == 2


async def test_with_a_zero_ttl_a_burst_shares_reads_that_started_after_it_arrived() -> None:
    reader = FakeReader(_versions(3))
    cache = ResponseCache(version_ttl=0.0)
    results = await asyncio.gather(*(cache.versions(reader) for _ in range(30)))
    assert all(r["calendar"] == 3 for r in results)
    # the first caller's read started before the others arrived: they share the next one
    assert reader.statements == 2


async def test_a_failed_version_read_is_not_reused() -> None:
    class Flaky(FakeReader):
        async def execute(self, statement: Any) -> Result[Any]:
            if self.statements == 0:
                self.statements += 1
                raise ConnectionError("database restarting")
            return await super().execute(statement)

    reader = Flaky(_versions(5))
    cache = ResponseCache(version_ttl=60.0)
    with pytest.raises(ConnectionError):
        await cache.versions(reader)
    assert (await cache.versions(reader))["calendar"] == 5
    assert reader.statements == 2


async def test_the_warm_up_never_stops_a_start(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        async def execute(self, statement: Any) -> Result[Any]:
            raise RuntimeError("no such table: events")

    with caplog.at_level(logging.WARNING, logger="api"):
        await warm_read_paths(Broken())  # type: ignore[arg-type]
    assert "read paths not warmed" in caplog.text


@pytest.mark.parametrize("database_url", [BACKENDS[1]], indirect=True)  # the pooled reader is PostgreSQL's
async def test_a_read_survives_the_server_dropping_its_pooled_connections(settings: Any) -> None:
    from sqlalchemy import text

    from api.db.engine import READ_POOL_NAME, PooledReader, make_sync_engine

    reader = PooledReader(settings.db)
    admin = make_sync_engine(settings.db, pooled=False)
    try:
        assert (await reader.execute(text("SELECT 1"))).scalar_one() == 1  # a pooled connection
        with admin.begin() as conn:
            dropped = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": READ_POOL_NAME},
            ).scalar_one()
        assert dropped >= 1
        assert (await reader.execute(text("SELECT 2"))).scalar_one() == 2
    finally:
        admin.dispose()
        await reader.dispose()
