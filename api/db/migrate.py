"""Apply Alembic migrations (on every start; idempotent) and seed the rows a fresh database needs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import Connection, insert, select, text

from api.db.engine import make_sync_engine, utcnow
from api.db.models import DatasetVersion, PolicyVersion
from api.settings import DatabaseSettings
from planner.domain import Policy

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
DATASETS = ("calendar", "officers", "policy")
_LOCK_ID = 7_305_220_041  # pg advisory lock: one migrator at a time


def alembic_config(connection: Connection | None = None) -> Config:
    logging.getLogger("alembic").setLevel(logging.WARNING)  # before alembic logs its plugin setup
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _seed(conn: Connection) -> None:
    now = utcnow()
    have = set(conn.execute(select(DatasetVersion.name)).scalars())
    for name in DATASETS:
        if name not in have:
            conn.execute(insert(DatasetVersion).values(name=name, version=0, updated_at=now))
    if conn.execute(select(PolicyVersion.version).limit(1)).first() is None:
        conn.execute(
            insert(PolicyVersion).values(
                version=1,
                body=msgspec.json.encode(Policy()).decode(),
                note="default policy",
                created_at=now,
                created_by=None,
            )
        )


def migrate(db: DatabaseSettings) -> None:
    """Bring the schema to head and seed defaults. Safe to call from several processes at once."""
    engine = make_sync_engine(db, pooled=False)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
            cfg = alembic_config(conn)
            from alembic import command

            command.upgrade(cfg, "head")
            _seed(conn)
    finally:
        engine.dispose()
