"""Engines for the API (async) and the worker/migrations (blocking), with SQLite tuned for concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Engine, Executable, Result, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from api.settings import DatabaseSettings


def utcnow() -> dt.datetime:
    """Naive UTC, the form every timestamp column stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_async_engine(db: DatabaseSettings) -> AsyncEngine:
    db.ensure_directory()
    kwargs: dict[str, Any] = {"echo": db.echo, "pool_size": db.pool_size, "max_overflow": db.pool_size}
    if db.dialect == "postgresql":
        # writes are not retried, so check a pooled connection before handing it out (writes are
        # rare enough for the extra round trip; bounded reads retry instead, see PooledReader)
        kwargs.update(pool_recycle=1800, pool_pre_ping=True)
    engine = create_async_engine(db.async_url, **kwargs)
    if db.dialect == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


@runtime_checkable  # Litestar checks a dependency's type on injection
class Reader(Protocol):
    """What the bounded read paths (list pages, single records) need of the database: one statement at
    a time, each answered with a fully buffered result and seeing committed data (every list query
    is a single statement, so a page and its total come from one snapshot)."""

    async def execute(self, statement: Executable) -> Result[Any]: ...


READ_POOL_NAME = "planner-read"  # application_name of the read pool's PostgreSQL sessions


class PooledReader:
    """Each statement on a connection of its own from a pool of autocommit connections (PostgreSQL:
    one round trip instead of BEGIN, query and ROLLBACK; no connection held while a response is
    encoded). Statements beyond the pool's size wait their turn in a FIFO queue: the pool's own wait
    lets newcomers overtake waiters (a long latency tail under load), and overflow connections would
    be opened and closed again for every burst."""

    def __init__(self, db: DatabaseSettings) -> None:
        self.engine = create_async_engine(
            db.async_url,
            echo=db.echo,
            isolation_level="AUTOCOMMIT",
            pool_size=db.read_pool_size,
            max_overflow=0,
            pool_recycle=1800,
            pool_reset_on_return=None,  # autocommit: no transaction to end
            # server-side prepared on first use (the warm-up prepares each read on every connection)
            connect_args={"prepare_threshold": 0, "application_name": READ_POOL_NAME},
        )
        self.size = db.read_pool_size
        self._turns = asyncio.Semaphore(self.size)  # newcomers queue behind waiters

    async def execute(self, statement: Executable) -> Result[Any]:
        try:
            return await self._execute(statement)
        except DBAPIError as error:
            # a pooled connection the server dropped (restart, failover, idle kill) surfaces on its
            # next use; SQLAlchemy has discarded it, and a read is safe to run again on a fresh one
            if not error.connection_invalidated:
                raise
            return await self._execute(statement)

    async def _execute(self, statement: Executable) -> Result[Any]:
        async with self._turns, self.engine.connect() as conn:
            return await conn.execute(statement)

    async def dispose(self) -> None:
        await self.engine.dispose()


class InlineSQLiteReader:
    """Reads from SQLite on the calling (event loop) thread. A bounded read of a WAL-mode database
    takes tens to hundreds of microseconds and never waits for a writer, while aiosqlite's hand-off to
    its thread costs several times that per statement (and the GIL contention of a thread per pooled
    connection). Only for bounded reads: a large export would stall the loop, so those keep the
    async connection."""

    size = 1  # one connection: statements run one after another on the loop's thread

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def execute(self, statement: Executable) -> Result[Any]:
        with self.engine.connect() as conn:
            return conn.execute(statement).freeze()()

    async def dispose(self) -> None:
        self.engine.dispose()


INLINE_BUSY_TIMEOUT_MS = 250  # how long a read on the loop's thread may wait for a SQLite lock


def make_reader(db: DatabaseSettings) -> PooledReader | InlineSQLiteReader:
    if db.dialect == "sqlite":
        engine = make_sync_engine(db, pool_size=1)
        # A WAL reader is rarely told to wait (recovery, an exclusive checkpoint); when it is, waiting
        # here stalls every request the loop serves, so give up soon (the request fails) instead.
        event.listen(engine, "connect", _short_busy_timeout)
        return InlineSQLiteReader(engine)
    return PooledReader(db)


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute(f"PRAGMA busy_timeout={INLINE_BUSY_TIMEOUT_MS}")


def make_sync_engine(db: DatabaseSettings, *, pooled: bool = True, pool_size: int | None = None) -> Engine:
    db.ensure_directory()
    kwargs: dict[str, Any] = {"echo": db.echo}
    if not pooled:
        kwargs["poolclass"] = NullPool
    elif db.dialect == "postgresql":
        kwargs.update(pool_size=pool_size or 2, max_overflow=pool_size or 2, pool_pre_ping=True)
    elif pool_size is not None:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    engine = create_engine(db.sync_url, **kwargs)
    if db.dialect == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine
