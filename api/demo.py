"""Load the demo London year (planner.demo) into an empty database, through the same upsert path
as the API's imports."""

from __future__ import annotations

import logging

import msgspec
from sqlalchemy import func, insert, select, update

from api.db.engine import make_sync_engine, utcnow
from api.db.models import DatasetVersion, EventRow, OfficerRow, PolicyVersion
from api.db.repositories import event_values, officer_values
from api.settings import Settings

log = logging.getLogger("api.demo")


def load_demo(settings: Settings, *, year: int = 2027, seed: int = 7) -> bool:
    """Insert the demo calendar, officers and policy unless events already exist. True if loaded."""
    from planner.demo import demo_problem

    engine = make_sync_engine(settings.db, pooled=False)
    try:
        with engine.begin() as conn:
            if conn.execute(select(func.count()).select_from(EventRow)).scalar_one():
                log.info("database already has events; demo not loaded")
                return False
            problem = demo_problem(year=year, seed=seed)
            now = utcnow()
            officers = [officer_values(o) | {"updated_at": now} for o in problem.officers]
            for start in range(0, len(officers), 5000):
                conn.execute(insert(OfficerRow), officers[start : start + 5000])
            conn.execute(
                insert(EventRow),
                [event_values(e) | {"created_at": now, "updated_at": now} for e in problem.events],
            )
            latest = conn.execute(select(func.max(PolicyVersion.version))).scalar_one() or 0
            conn.execute(
                insert(PolicyVersion).values(
                    version=latest + 1,
                    body=msgspec.json.encode(problem.policy).decode(),
                    note=f"demo policy {year}",
                    created_at=now,
                    created_by=None,
                )
            )
            for name in ("calendar", "officers", "policy"):
                conn.execute(
                    update(DatasetVersion)
                    .where(DatasetVersion.name == name)
                    .values(version=DatasetVersion.version + 1, updated_at=now)
                )
            log.info(
                "loaded demo year %d: %d events, %d officers",
                year,
                len(problem.events),
                len(problem.officers),
            )
            return True
    finally:
        engine.dispose()
