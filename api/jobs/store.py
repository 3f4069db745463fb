"""Writing a job's result: the `plans` row (keyed by job id, so a second writer fails on the primary
key and the first result stands) and, for a plan, its query rows, in the caller's transaction.

PostgreSQL takes the rows by COPY. SQLite takes them in chunks of executemany; the caller commits
once, so readers never see half a plan (WAL readers are not blocked by the writer meanwhile)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import msgspec
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from api.db.models import PlanAssignment, PlanBcuDay, PlanEventKpi, PlanRecord, PlanShortfall, PlanUnitDay
from api.db.repositories import dumps
from api.jobs.snapshot import Snapshot, compress
from planner.evaluate import Evaluation
from planner.plan import Plan

log = logging.getLogger("api.jobs")

SQLITE_CHUNK_ROWS = 5_000

ASSIGNMENT_COLUMNS = [
    "plan_id",
    "service_number",
    "event_id",
    "tour_index",
    "day",
    "role",
    "slot",
    "unit_id",
    "source",
    "start",
    "end",
    "rest_day_cancelled",
]
SHORTFALL_COLUMNS = [
    "plan_id",
    "event_id",
    "tour_index",
    "day",
    "role",
    "required",
    "filled",
    "officers_short",
    "reasons",
]
EVENT_KPI_COLUMNS = ["plan_id", "event_id", "tour_index", "day", "borough", "priority", "short", "data"]


def copy_rows(conn: Connection, table: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        cols = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    # Straight to the driver, in the same transaction, each value through its column type's own
    # bind processor (the stored form SQLAlchemy reads back): a fraction of the CPU of Core's
    # executemany, which matters because that CPU competes with the API processes' reads.
    processors = [table.c[c].type.bind_processor(conn.dialect) for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(rows), SQLITE_CHUNK_ROWS):
            cursor.executemany(
                sql,
                [
                    tuple(v if p is None else p(v) for p, v in zip(processors, row, strict=True))
                    for row in rows[start : start + SQLITE_CHUNK_ROWS]
                ],
            )
    finally:
        cursor.close()


def insert_record(
    conn: Connection,
    job_id: str,
    snap: Snapshot,
    plan: Plan,
    summary: str,
    seconds: float,
    now: dt.datetime,
    analysis: Any = None,
) -> bool:
    """The job's one `plans` row; False if the job already has one (its first result stands).

    ON CONFLICT DO NOTHING rather than a savepoint: on SQLite (pysqlite) a SAVEPOINT outside a
    transaction opens one that its RELEASE commits, which made the plans row visible, and the plan
    look stored, before any of its rows were written."""
    values = {
        "job_id": job_id,
        "input_hash": snap.hash,
        "calendar_version": snap.calendar_version,
        "officers_version": snap.officers_version,
        "policy_version": snap.policy_version,
        "start": snap.problem.start,
        "end": snap.problem.end,
        "method": plan.method,
        "plan_blob": compress(msgspec.msgpack.encode(plan)),
        "analysis": compress(msgspec.msgpack.encode(analysis)) if analysis is not None else None,
        "summary": summary,
        "stages": dumps(plan.stages),
        "quality": dumps(plan.quality) if plan.quality is not None else None,
        "assignments": len(plan.assignments),
        "shortfalls": len(plan.shortfalls),
        "solve_seconds": seconds,
        "created_at": now,
    }
    dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(PlanRecord).values(**values).on_conflict_do_nothing()
    if conn.execute(statement.returning(PlanRecord.job_id)).first() is None:
        log.warning("job %s already has a result; keeping the first", job_id)
        return False
    return True


def insert_plan_rows(conn: Connection, job_id: str, plan: Plan, evaluation: Evaluation | None) -> None:
    """The rows the result pages and CSV exports query."""
    copy_rows(
        conn,
        PlanAssignment.__table__,
        ASSIGNMENT_COLUMNS,
        [
            (
                job_id,
                a.service_number,
                a.event_id,
                a.tour_index,
                a.day,
                a.role,
                a.slot,
                a.unit_id,
                a.source,
                a.start,
                a.end,
                a.rest_day_cancelled,
            )
            for a in plan.assignments
        ],
    )
    copy_rows(
        conn,
        PlanShortfall.__table__,
        SHORTFALL_COLUMNS,
        [
            (
                job_id,
                s.event_id,
                s.tour_index,
                s.day,
                s.role,
                s.required,
                s.filled,
                s.officers_short,
                dumps(list(s.reasons)),
            )
            for s in plan.shortfalls
        ],
    )
    if evaluation is None:
        return
    enc = msgspec.json.Encoder()
    copy_rows(
        conn,
        PlanUnitDay.__table__,
        ["plan_id", "unit", "day", "data"],
        [(job_id, u.unit, u.day, enc.encode(u).decode()) for u in evaluation.units],
    )
    copy_rows(
        conn,
        PlanBcuDay.__table__,
        ["plan_id", "bcu", "day", "data"],
        [(job_id, b.bcu, b.day, enc.encode(b).decode()) for b in evaluation.bcus],
    )
    copy_rows(
        conn,
        PlanEventKpi.__table__,
        EVENT_KPI_COLUMNS,
        [
            (job_id, e.event_id, e.tour_index, e.day, e.borough, e.priority, e.short, enc.encode(e).decode())
            for e in evaluation.events
        ],
    )
