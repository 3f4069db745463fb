"""The inputs a job solves: read in one transaction, checked, stored content-addressed.

A reclaimed job solves the same snapshot again, so a snapshot that cannot be solved or stored fails
the same way every time: `InputError` says which record and field, and the job fails at once
instead of being retried as if its worker had crashed."""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Connection, insert, select

from api.db.compat import decode_lenient
from api.db.engine import utcnow
from api.db.models import DatasetVersion, EventRow, OfficerRow, PolicyVersion, ProblemSnapshot
from api.db.repositories import EVENT_COLUMNS, OFFICER_COLUMNS, event_from_row, officer_from_row
from planner.domain import Event, Officer, PlanningProblem, Policy
from planner.reference import london

# Counts in a snapshot and in a stored plan's rows (officers required, filled, short) are 32-bit
# integer columns; a value past this cannot be stored, whatever the domain rules allow.
STORABLE_INT = 2**31 - 1


class InputError(ValueError):
    """The job's inputs cannot be solved or stored; the message names the record and the field."""


def compress(data: bytes) -> bytes:
    return zlib.compress(data, 6)


def decompress(data: bytes) -> bytes:
    return zlib.decompress(data)


@dataclass(frozen=True)
class Snapshot:
    hash: str
    problem: PlanningProblem
    calendar_version: int
    officers_version: int
    policy_version: int


def build_problem(conn: Connection, start: dt.date, end: dt.date, policy_version: int | None) -> Snapshot:
    """Read the inputs in one transaction and make the PlanningProblem the job solves."""
    versions = dict(conn.execute(select(DatasetVersion.name, DatasetVersion.version)).all())
    version, policy = read_policy(conn, policy_version)
    problem = PlanningProblem(
        organisation=london(),
        officers=read_officers(conn),
        events=read_events(conn, start, end),
        policy=policy,
        start=start,
        end=end,
    )
    check_problem(problem)
    digest = hashlib.sha256(msgspec.msgpack.encode(problem)).hexdigest()
    return Snapshot(
        hash=digest,
        problem=problem,
        calendar_version=versions.get("calendar", 0),
        officers_version=versions.get("officers", 0),
        policy_version=version,
    )


def read_policy(conn: Connection, policy_version: int | None) -> tuple[int, Policy]:
    """The given policy version, or the latest."""
    query = select(PolicyVersion.version, PolicyVersion.body)
    query = (
        query.where(PolicyVersion.version == policy_version)
        if policy_version is not None
        else query.order_by(PolicyVersion.version.desc())
    )
    prow = conn.execute(query.limit(1)).first()
    if prow is None:
        raise InputError(f"policy version {policy_version} does not exist")
    return prow.version, decode_lenient(prow.body, Policy)


def read_officers(conn: Connection) -> tuple[Officer, ...]:
    return tuple(
        officer_from_row(r)
        for r in conn.execute(select(*OFFICER_COLUMNS).order_by(OfficerRow.service_number))
    )


def read_events(conn: Connection, start: dt.date, end: dt.date) -> tuple[Event, ...]:
    """Planned events with a tour in [start, end] (overnight tours start the day before)."""
    lo = dt.datetime.combine(start, dt.time()) - dt.timedelta(days=1)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    return tuple(
        event_from_row(r)
        for r in conn.execute(
            select(*EVENT_COLUMNS)
            .where(EventRow.status == "planned", EventRow.end >= lo, EventRow.start < hi)
            .order_by(EventRow.start, EventRow.external_id)
        )
    )


def check_problem(problem: PlanningProblem) -> None:
    """Raise InputError naming the first value a plan of `problem` could not carry or store.

    Domain bounds (how many serials an event may ask for, a policy's reference period) are the
    imports' and the policy's checks; this is what the job itself needs of data stored before
    those checks, or written around them."""
    for event in problem.events:
        for i, demand in enumerate(event.demand):
            role = problem.policy.roles.get(demand.role)
            officers = demand.count * (role.size if role else 1)
            if demand.count < 0 or officers > STORABLE_INT:
                raise InputError(
                    f"event {event.external_id!r}: demand[{i}].count ({demand.role}) is {demand.count}, "
                    f"{officers} officers a tour; a plan can hold 0 to {STORABLE_INT:,}"
                )
        _check_ints(event, f"event {event.external_id!r}")
    for officer in problem.officers:
        _check_ints(officer, f"officer {officer.service_number!r}")
    _check_ints(problem.policy, "policy version in use")


def _check_ints(record: Any, owner: str) -> None:
    for path, value in _ints(record, ""):
        if not -STORABLE_INT - 1 <= value <= STORABLE_INT:
            raise InputError(f"{owner}: {path.lstrip('.')} is {value}, out of range for a plan")


def _ints(value: Any, path: str) -> Iterator[tuple[str, int]]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield path, value
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            yield from _ints(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            yield from _ints(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _ints(item, f"{path}[{key!r}]")


def load_snapshot(conn: Connection, digest: str) -> Snapshot:
    row = conn.execute(select(ProblemSnapshot).where(ProblemSnapshot.hash == digest)).one()
    problem = msgspec.msgpack.decode(decompress(row.blob), type=PlanningProblem)
    return Snapshot(
        hash=digest,
        problem=problem,
        calendar_version=row.calendar_version,
        officers_version=row.officers_version,
        policy_version=row.policy_version,
    )


def save_snapshot(conn: Connection, snap: Snapshot) -> None:
    exists = conn.execute(select(ProblemSnapshot.hash).where(ProblemSnapshot.hash == snap.hash)).first()
    if exists is None:
        conn.execute(
            insert(ProblemSnapshot).values(
                hash=snap.hash,
                blob=compress(msgspec.msgpack.encode(snap.problem)),
                calendar_version=snap.calendar_version,
                officers_version=snap.officers_version,
                policy_version=snap.policy_version,
                created_at=utcnow(),
            )
        )
