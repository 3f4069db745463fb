"""Tables. JSON-ish columns are msgspec-encoded text so that SQLite and PostgreSQL store the same bytes.

Timestamps are naive UTC; event times are naive London local time, as in planner.domain."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # public part of the key
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the secret part
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(), nullable=True)


class DatasetVersion(Base):
    """A counter per mutable input ("calendar", "officers"), bumped only when rows really change."""

    __tablename__ = "dataset_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime())


class OfficerRow(Base):
    __tablename__ = "officers"

    service_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(16), index=True)
    rank: Mapped[str] = mapped_column(String(8), index=True)
    duty_role: Mapped[str] = mapped_column(String(16))
    skills: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    shift_pattern: Mapped[str] = mapped_column(String(32))
    pattern_offset: Mapped[int] = mapped_column(Integer, default=0)
    leave: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of [start, end]
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime())


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_start_id", "start", "external_id"),)

    external_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    borough: Mapped[str] = mapped_column(String(16), index=True)
    start: Mapped[dt.datetime] = mapped_column(DateTime())
    end: Mapped[dt.datetime] = mapped_column(DateTime())
    priority: Mapped[str] = mapped_column(String(16), index=True)
    demand: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {role, count}
    grade: Mapped[str | None] = mapped_column(String(16), nullable=True)
    venue: Mapped[str] = mapped_column(String(300), default="")
    notified: Mapped[dt.date | None] = mapped_column(Date(), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="planned", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime())


class PolicyVersion(Base):
    """Every policy update is a new immutable row."""

    __tablename__ = "policy_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(Text)  # JSON-encoded planner.domain.Policy
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())
    created_by: Mapped[str | None] = mapped_column(String(24), nullable=True)


class ProblemSnapshot(Base):
    """The exact PlanningProblem a job solved, content-addressed, zlib-compressed msgpack."""

    __tablename__ = "problem_snapshots"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    calendar_version: Mapped[int] = mapped_column(Integer)
    officers_version: Mapped[int] = mapped_column(Integer)
    policy_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())


class Job(Base):
    __tablename__ = "plan_jobs"
    __table_args__ = (
        Index("ix_plan_jobs_status_created", "status", "created_at"),
        Index("ix_plan_jobs_kind_created", "kind", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), server_default="plan")  # plan or frontier
    status: Mapped[str] = mapped_column(String(16))  # queued/running/succeeded/failed/cancelled
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(500), default="")
    objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    bound: Mapped[float | None] = mapped_column(Float, nullable=True)
    gap: Mapped[float | None] = mapped_column(Float, nullable=True)
    start: Mapped[dt.date] = mapped_column(Date())
    end: Mapped[dt.date] = mapped_column(Date())
    policy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    options: Mapped[str] = mapped_column(Text, default="{}")
    input_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # api.jobs.ErrorKind
    created_by: Mapped[str | None] = mapped_column(String(24), nullable=True)  # submitter's key id
    cancelled_by: Mapped[str | None] = mapped_column(String(24), nullable=True)  # key id that cancelled
    cancel_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(), nullable=True)


class PlanRecord(Base):
    """One immutable result per job (the primary key makes a second write impossible)."""

    __tablename__ = "plans"

    job_id: Mapped[str] = mapped_column(ForeignKey("plan_jobs.id"), primary_key=True)
    input_hash: Mapped[str] = mapped_column(ForeignKey("problem_snapshots.hash"))
    calendar_version: Mapped[int] = mapped_column(Integer)
    officers_version: Mapped[int] = mapped_column(Integer)
    policy_version: Mapped[int] = mapped_column(Integer)
    start: Mapped[dt.date] = mapped_column(Date())
    end: Mapped[dt.date] = mapped_column(Date())
    method: Mapped[str] = mapped_column(String(64))
    plan_blob: Mapped[bytes] = mapped_column(LargeBinary)  # zlib(msgpack(planner.plan.Plan))
    # zlib(msgpack(api.jobs.analysis.PlanAnalysis)), computed by the job; NULL for older plans
    analysis: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="{}")  # JSON of evaluate().summary
    stages: Mapped[str] = mapped_column(Text, default="[]")
    # JSON of planner.plan.PlanQuality: the delivered plan's cost, lower bound and gap (NULL: the
    # solver gave none, or the plan was stored before plans carried it)
    quality: Mapped[str | None] = mapped_column(Text, nullable=True)
    assignments: Mapped[int] = mapped_column(Integer)
    shortfalls: Mapped[int] = mapped_column(Integer)
    solve_seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())


class PlanAssignment(Base):
    __tablename__ = "plan_assignments"
    __table_args__ = (
        Index("ix_plan_assignments_officer", "plan_id", "service_number"),
        Index("ix_plan_assignments_event", "plan_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(36))
    service_number: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(200))
    tour_index: Mapped[int] = mapped_column(Integer)
    day: Mapped[dt.date] = mapped_column(Date())
    role: Mapped[str] = mapped_column(String(32))
    slot: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    start: Mapped[dt.datetime] = mapped_column(DateTime())
    end: Mapped[dt.datetime] = mapped_column(DateTime())
    rest_day_cancelled: Mapped[bool] = mapped_column(Boolean)


class PlanShortfall(Base):
    __tablename__ = "plan_shortfalls"
    __table_args__ = (Index("ix_plan_shortfalls_event", "plan_id", "event_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(36))
    event_id: Mapped[str] = mapped_column(String(200))
    tour_index: Mapped[int] = mapped_column(Integer)
    day: Mapped[dt.date] = mapped_column(Date())
    role: Mapped[str] = mapped_column(String(32))
    required: Mapped[int] = mapped_column(Integer)
    filled: Mapped[int] = mapped_column(Integer)
    officers_short: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[str] = mapped_column(Text, default="[]")


class PlanUnitDay(Base):
    """evaluate()'s per (unit, day) KPIs; the KPI fields live in `data` as JSON."""

    __tablename__ = "plan_unit_days"

    plan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date(), primary_key=True)
    data: Mapped[str] = mapped_column(Text)


class PlanBcuDay(Base):
    __tablename__ = "plan_bcu_days"

    plan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bcu: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date(), primary_key=True)
    data: Mapped[str] = mapped_column(Text)


class PlanEventKpi(Base):
    """evaluate()'s per event tour coverage; a few columns copied out of `data` for filtering."""

    __tablename__ = "plan_event_kpis"
    __table_args__ = (Index("ix_plan_event_kpis_day", "plan_id", "day"),)

    plan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    tour_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date())
    borough: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    short: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)


class PlanVersion(Base):
    """A published plan and every version re-planned from it, a lineage per root plan (`series`).

    Version 1 is the published plan itself (its assignments stay in the plan's rows); each later
    version stores only what it changed in its parent (`delta`: zlib(msgpack(solver.replan.
    VersionDelta))), so a year's lineage of small changes stays small. (series, number) is unique:
    two re-plans of the same version race to number + 1 and exactly one wins."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("series", "number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    series: Mapped[str] = mapped_column(ForeignKey("plans.job_id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # published | replan
    author: Mapped[str | None] = mapped_column(String(24), nullable=True)  # API key id
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())
    as_of: Mapped[dt.datetime] = mapped_column(DateTime())  # notice is counted from here
    published_through: Mapped[dt.date | None] = mapped_column(Date(), nullable=True)
    input_hash: Mapped[str] = mapped_column(ForeignKey("problem_snapshots.hash"))
    delta: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    inputs: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: the input changes answered
    stats: Mapped[str] = mapped_column(Text, default="{}")
    assignments_added: Mapped[int] = mapped_column(Integer, default=0)
    assignments_removed: Mapped[int] = mapped_column(Integer, default=0)
    officers_changed: Mapped[int] = mapped_column(Integer, default=0)
    disruption_cost: Mapped[float] = mapped_column(Float, default=0.0)
    officers_short: Mapped[int] = mapped_column(Integer, default=0)


class PlanChange(Base):
    """One officer-day a version changed: the change log and the notification list."""

    __tablename__ = "plan_changes"
    __table_args__ = (
        Index("ix_plan_changes_series_day", "series", "day"),
        Index("ix_plan_changes_series_officer", "series", "service_number"),
        Index("ix_plan_changes_series_event", "series", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    series: Mapped[str] = mapped_column(String(36))
    version_id: Mapped[str] = mapped_column(ForeignKey("plan_versions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    service_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")  # as stored when the change was made
    unit: Mapped[str] = mapped_column(String(16))
    day: Mapped[dt.date] = mapped_column(Date())
    kind: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the duty after, else before
    before: Mapped[str] = mapped_column(Text)  # JSON planner.disruption.Duty
    after: Mapped[str] = mapped_column(Text)
    notice_days: Mapped[int] = mapped_column(Integer)
    clear_days: Mapped[int] = mapped_column(Integer)
    cost_class: Mapped[str] = mapped_column(String(64))
    pay: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    notify: Mapped[bool] = mapped_column(Boolean)  # inside the published horizon: the officer is told


class PlanPin(Base):
    __tablename__ = "plan_pins"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    series: Mapped[str] = mapped_column(ForeignKey("plans.job_id"), index=True)
    event_id: Mapped[str] = mapped_column(String(200))
    tour_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    service_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(24), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())


class IdempotentRequest(Base):
    """A POST answered once per (key id, Idempotency-Key): a retry gets the first answer."""

    __tablename__ = "idempotent_requests"

    key_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())


class OfficerAbsence(Base):
    """Why an officer became unavailable (the dates also go into their leave, which plans read)."""

    __tablename__ = "officer_absences"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    service_number: Mapped[str] = mapped_column(ForeignKey("officers.service_number"), index=True)
    start: Mapped[dt.date] = mapped_column(Date())
    end: Mapped[dt.date] = mapped_column(Date())
    reason: Mapped[str] = mapped_column(String(32))  # sickness, court, leave, training, other
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str | None] = mapped_column(String(24), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())
