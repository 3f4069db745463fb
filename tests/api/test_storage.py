"""Storage: migrations are idempotent and match the models; the CLI's first admin key works."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from api.cli import main as cli_main
from api.db.engine import make_sync_engine
from api.db.migrate import migrate
from api.db.models import ApiKey, Base, DatasetVersion, PolicyVersion
from api.settings import Settings
from tests.api.conftest import Service


def test_migrations_are_idempotent_and_match_the_models(settings: Settings) -> None:
    migrate(settings.db)
    migrate(settings.db)  # a second start changes nothing
    engine = make_sync_engine(settings.db, pooled=False)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        versions = dict(conn.execute(select(DatasetVersion.name, DatasetVersion.version)).all())
        policies = conn.execute(select(PolicyVersion.version)).scalars().all()
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert versions == {"calendar": 0, "officers": 0, "policy": 0}
    assert policies == [1]


def test_create_admin_key_prints_a_working_key_once(service: Service, monkeypatch: Any) -> None:
    monkeypatch.setenv("DATABASE_URL", service.settings.db.url)
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli_main(["create-admin-key", "--label", "bootstrap"]) == 0
    key = out.getvalue().strip()
    assert key.startswith("mep_") and "\n" not in key
    engine = make_sync_engine(service.settings.db, pooled=False)
    with engine.connect() as conn:
        stored = conn.execute(
            select(ApiKey.secret_hash, ApiKey.role).where(ApiKey.label == "bootstrap")
        ).one()
    engine.dispose()
    assert stored.role == "admin" and key.split("_", 2)[2] not in stored.secret_hash
    r = service.client.post("/keys", json={"role": "planner"}, headers={"X-API-Key": key})
    assert r.status_code == 201
    assert service.client.get("/events", headers={"X-API-Key": key}).status_code == 403


def test_health_and_schema_need_no_key(service: Service) -> None:
    assert service.client.get("/health").json()["status"] == "ok"
    spec = service.client.get("/schema/openapi.json").json()
    operations = [op for methods in spec["paths"].values() for op in methods.values()]
    assert all(op.get("operationId") and op.get("summary") for op in operations)
    # every parameter has a typed schema (a client generator needs one)
    typed = ("type", "$ref", "oneOf", "anyOf", "allOf", "enum")
    untyped = [
        (op["operationId"], p["name"])
        for op in operations
        for p in op.get("parameters", [])
        if not any(k in p["schema"] for k in typed)
    ]
    assert untyped == []
    assert spec["components"]["securitySchemes"]["ApiKey"]["name"] == "X-API-Key"
    assert "text/calendar" in spec["paths"]["/events/import/ics"]["post"]["requestBody"]["content"]


def test_deployable_roles_follow_the_policy(service: Service) -> None:
    c, h = service.client, service.h("planner")
    roles = {r["code"]: r for r in c.get("/reference/deployable-roles", headers=h).json()}
    assert roles["serial_l2"]["size"] == 8 and roles["psu_l2"]["size"] == 25
    policy = c.get("/policy", headers=h).json()["policy"]
    policy["roles"]["cordon"] = {"label": "Cordon officer", "slots": [{"ranks": ["PC"], "count": 1}]}
    assert c.put("/policy", json={"policy": policy}, headers=h).status_code == 201
    codes = [r["code"] for r in c.get("/reference/deployable-roles", headers=service.h("analyst")).json()]
    assert "cordon" in codes


def test_a_policy_stored_by_an_older_version_still_reads(service: Service) -> None:
    """A stored policy with a field today's Policy no longer has: the field is ignored, not a 500."""
    import json

    from sqlalchemy import update

    engine = make_sync_engine(service.settings.db, pooled=False)
    with engine.begin() as conn:
        body = json.loads(conn.execute(select(PolicyVersion.body)).scalar_one())
        body["retired_setting"] = 3
        body["floors"]["old_floor"] = 0.5
        conn.execute(update(PolicyVersion).values(body=json.dumps(body)))
    engine.dispose()
    r = service.client.get("/policy", headers=service.h("planner"))
    assert r.status_code == 200
    assert "retired_setting" not in r.json()["policy"] and "old_floor" not in r.json()["policy"]["floors"]


def test_upgrading_marks_existing_frontier_jobs(settings: Settings) -> None:
    """0002 adds plan_jobs.kind; jobs queued before it said 'frontier' only in their options."""
    from alembic import command

    from api.db.migrate import alembic_config

    engine = make_sync_engine(settings.db, pooled=False)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        for job_id, options in (("plan-job", '{"workers": 2}'), ("frontier-job", '{"kind": "frontier"}')):
            conn.execute(
                text(
                    'INSERT INTO plan_jobs (id, status, stage, percent, message, start, "end", options,'
                    " created_at, attempts, cancel_requested) VALUES (:id, 'succeeded', 'done', 100, '',"
                    " '2027-03-01', '2027-03-02', :options, '2026-11-28 00:00:00', 1, false)"
                ),
                {"id": job_id, "options": options},
            )
    migrate(settings.db)
    with engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT id, kind FROM plan_jobs")).all())
    engine.dispose()
    assert kinds == {"plan-job": "plan", "frontier-job": "frontier"}


def test_an_in_memory_sqlite_database_is_refused() -> None:
    from api.settings import DatabaseSettings

    with pytest.raises(ValueError, match="in-memory"):
        DatabaseSettings(url="sqlite:///:memory:").ensure_directory()


def test_api_processes_follow_a_container_cpu_quota(tmp_path: Any, monkeypatch: Any) -> None:
    from api import settings as settings_module

    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert settings_module._cgroup_cpu_quota(v2) == 1.5
    (v2 / "cpu.max").write_text("max 100000\n")
    assert settings_module._cgroup_cpu_quota(v2) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert settings_module._cgroup_cpu_quota(v1) is None
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    assert settings_module._cgroup_cpu_quota(v1) == 3.0
    monkeypatch.setattr(settings_module, "_cgroup_cpu_quota", lambda: 1.5)
    assert settings_module.default_web_concurrency() == 1
    monkeypatch.setattr(settings_module, "_cgroup_cpu_quota", lambda: 64.0)
    assert settings_module.default_web_concurrency() <= 4


def _insert(conn: Any, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(f'"{c}"' for c in row)
    conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in row)})"), row)


def test_a_plan_stored_before_plans_carried_their_quality_reports_null(settings: Settings) -> None:
    """0003 adds plans.quality; a plan row written before it reads back with quality null."""
    import datetime as dt

    from alembic import command
    from litestar.testing import TestClient

    from api.app import create_app
    from api.auth import insert_key_statement
    from api.db.migrate import alembic_config

    created = dt.datetime(2026, 11, 28)
    first, last = dt.date(2027, 3, 1), dt.date(2027, 3, 2)
    stages = '[{"name": "allocation", "status": "DONE", "seconds": 1.0, "gap": 0.3}]'
    engine = make_sync_engine(settings.db, pooled=False)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
        _insert(
            conn,
            "plan_jobs",
            {"id": "old-plan", "kind": "plan", "status": "succeeded", "stage": "done", "percent": 100.0,
             "message": "", "start": first, "end": last, "options": "{}", "created_at": created,
             "attempts": 1, "cancel_requested": False, "gap": 0.3},
        )  # fmt: skip
        _insert(
            conn,
            "problem_snapshots",
            {"hash": "h", "blob": b"x", "calendar_version": 1, "officers_version": 1, "policy_version": 1,
             "created_at": created},
        )  # fmt: skip
        _insert(
            conn,
            "plans",
            {"job_id": "old-plan", "input_hash": "h", "calendar_version": 1, "officers_version": 1,
             "policy_version": 1, "start": first, "end": last, "method": "two-stage", "plan_blob": b"x",
             "summary": "{}", "stages": stages, "assignments": 0, "shortfalls": 0, "solve_seconds": 1.0,
             "created_at": created},
        )  # fmt: skip
    migrate(settings.db)
    full, _key_id, stmt = insert_key_statement("analyst", "test")
    with engine.begin() as conn:
        conn.execute(stmt)
    engine.dispose()
    with TestClient(create_app(settings, migrate=False)) as client:
        summary = client.get("/plans/old-plan/summary", headers={"X-API-Key": full}).json()
    assert summary["quality"] is None
    [stage] = summary["stages"]
    assert (stage["name"], stage["gap"]) == ("allocation", 0.3)
