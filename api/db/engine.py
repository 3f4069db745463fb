"""Engines for the API (async) and the worker/migrations (blocking), with SQLite tuned for concurrency."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, create_engine, event
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
    kwargs: dict[str, Any] = {"echo": db.echo}
    if db.dialect == "postgresql":
        kwargs.update(pool_size=db.pool_size, max_overflow=db.pool_size, pool_recycle=1800)
    engine = create_async_engine(db.async_url, **kwargs)
    if db.dialect == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def make_sync_engine(db: DatabaseSettings, *, pooled: bool = True) -> Engine:
    db.ensure_directory()
    kwargs: dict[str, Any] = {"echo": db.echo}
    if not pooled:
        kwargs["poolclass"] = NullPool
    elif db.dialect == "postgresql":
        kwargs.update(pool_size=2, max_overflow=2, pool_pre_ping=True)
    engine = create_engine(db.sync_url, **kwargs)
    if db.dialect == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine
