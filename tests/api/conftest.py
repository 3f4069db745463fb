"""Fixtures for the service tests: every storage/API test runs on SQLite and on PostgreSQL.

PostgreSQL: TEST_POSTGRES_URL, or postgresql://postgres@127.0.0.1:5432/test when unset. Each test gets a
fresh schema (dropped afterwards), so runs never see each other's rows. If TEST_POSTGRES_URL is unset and
the local server is unreachable the PostgreSQL cases are skipped; if it is set, they fail instead."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from api.auth import ROLES, insert_key_statement
from api.db.engine import make_sync_engine
from api.db.migrate import migrate
from api.jobs import Worker
from api.settings import DatabaseSettings, ServerSettings, Settings, WorkerSettings

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
_pg_state: dict[str, Any] = {}


def postgres_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or PG_DEFAULT


def _pg_reachable() -> str | None:
    if "error" not in _pg_state:
        try:
            engine = create_engine(
                DatabaseSettings(url=postgres_url()).sync_url, connect_args={"connect_timeout": 3}
            )
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["error"] = None
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
            _pg_state["error"] = f"{type(exc).__name__}: {exc}"
    return _pg_state["error"]  # type: ignore[no-any-return]


def with_search_path(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/planner.sqlite3"
        return
    error = _pg_reachable()
    if error:
        if os.environ.get("TEST_POSTGRES_URL"):
            pytest.fail(f"TEST_POSTGRES_URL is set but PostgreSQL is unreachable: {error}")
        pytest.skip(f"PostgreSQL at {postgres_url()} unreachable: {error}")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(DatabaseSettings(url=postgres_url()).sync_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(postgres_url(), schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        db=DatabaseSettings(url=database_url),
        server=ServerSettings(
            max_body_bytes=2 * 1024 * 1024, max_page_size=500, key_cache_seconds=5.0, version_ttl_seconds=0.2
        ),
        worker=WorkerSettings(
            mode="off", poll_seconds=0.05, heartbeat_seconds=0.2, stale_seconds=30.0, solver_workers=1
        ),
    )


@dataclass
class Service:
    client: TestClient  # type: ignore[type-arg]
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)

    def h(self, role: str | None) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]} if role else {}

    def new_key(self, role: str) -> tuple[str, str]:
        full, key_id, stmt = insert_key_statement(role, "test")  # type: ignore[arg-type]
        engine = make_sync_engine(self.settings.db, pooled=False)
        with engine.begin() as conn:
            conn.execute(stmt)  # type: ignore[arg-type]
        engine.dispose()
        return full, key_id

    def worker(self, **changes: Any) -> Worker:
        return Worker(replace(self.settings, worker=replace(self.settings.worker, **changes)))

    def run_jobs(self, **changes: Any) -> list[str | None]:
        worker = self.worker(**changes)
        try:
            out = []
            while (status := worker.run_once()) is not None:
                out.append(status)
            return out
        finally:
            worker.engine.dispose()


@pytest.fixture
def service(settings: Settings) -> Iterator[Service]:
    migrate(settings.db)
    app = create_app(settings, migrate=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        svc = Service(client=client, settings=settings)
        for role in ROLES:
            svc.keys[role] = svc.new_key(role)[0]
        yield svc
