"""Publishing and re-planning: the version lineage of a published plan.

A lineage starts when a stored plan is published (version 1: the plan's own rows). Each re-plan
takes the latest version and the inputs as they stand (events, absences, leave: whatever came in
through any endpoint since), answers the differences with solver.replan, checks the result with
the validator over everything the change can reach (planner.validate.validate_change), and stores
a new version holding only what changed: the assignments removed and added, the re-measured
shortfalls, the input records that changed, and one change-log row per officer-day.

The work is CPU-bound (a warm re-plan of a small event takes a fraction of a second, a cold one
must first rebuild the roster of the year), so it runs in a worker thread with its own blocking
connection; the event loop only waits. The version the last re-plan produced stays warm in this
process (`LiveVersion`), keyed by the version's id: a re-plan of any other version, a re-plan
after a restart, or a re-plan in another process rebuilds it from the stored lineage. Two
re-plans of one version race on the unique (series, number): one wins, the other gets a 409
naming the latest version, and its warm state is thrown away.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from api.db.engine import make_sync_engine, utcnow
from api.db.models import (
    DatasetVersion,
    IdempotentRequest,
    OfficerAbsence,
    OfficerRow,
    PlanChange,
    PlanPin,
    PlanRecord,
    PlanVersion,
    ProblemSnapshot,
)
from api.db.repositories import OFFICER_COLUMNS, dumps, officer_from_row, officer_values
from api.features.common import london as london_time
from api.features.common import page_info, utc
from api.features.versions.schemas import (
    AbsenceIn,
    AbsenceOut,
    AssignmentOut,
    AssignmentPage,
    CandidateOut,
    ChangeOut,
    ChangePage,
    CoverageChange,
    DiffOut,
    DutyOut,
    NotificationList,
    NotificationOut,
    PinIn,
    PinList,
    PinOut,
    PublishRequest,
    RecommendationOut,
    ReplanRequest,
    ReplanStatsOut,
    VersionList,
    VersionOut,
)
from api.jobs.snapshot import InputError, read_events, read_officers, read_policy
from api.problems import ProblemError
from api.settings import DatabaseSettings
from planner.changes import InputDelta, apply_delta, input_delta
from planner.disruption import Duty, DutyChange
from planner.domain import DateRange, Officer, PlanningProblem
from planner.plan import Assignment, Plan, Shortfall
from planner.recommend import recommend
from planner.reference import london
from planner.rules import event_tours
from planner.validate import validate_change
from solver.replan import LiveVersion, Pin, ReplanOptions, ReplanRefused, ReplanResult, VersionDelta, replan


class StoredDelta(msgspec.Struct, forbid_unknown_fields=True):
    """What a re-plan version stores (zlib(msgpack)): its changes to the parent's plan and inputs."""

    plan: VersionDelta
    inputs: InputDelta
    coverage: list[CoverageChange]


def _pack(value: Any) -> bytes:
    return zlib.compress(msgspec.msgpack.encode(value), 6)


def _unpack(blob: bytes, kind: type) -> Any:
    return msgspec.msgpack.decode(zlib.decompress(blob), type=kind)


# --------------------------------------------------------------------------- process state


@dataclass
class _Inputs:
    """The inputs as they stand, cached per dataset version (re-reading 32,000 officers for every
    re-plan would cost more than the re-plan)."""

    officers: tuple[int, Any] | None = None
    events: tuple[tuple[int, dt.date, dt.date], Any] | None = None
    policies: dict[int, Any] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def patch_officer(self, version: int, officer: Officer) -> None:
        """This process wrote `officer` and moved the officers' dataset to `version` under the
        dataset lock: if the cache held the version just before, it holds `version` now with
        one record changed (a sickness need not re-read 32,000 officers)."""
        with self.guard:
            if self.officers is None or self.officers[0] != version - 1:
                return
            self.officers = (
                version,
                tuple(officer if o.service_number == officer.service_number else o for o in self.officers[1]),
            )

    def problem(self, conn: Connection, start: dt.date, end: dt.date, policy_version: int) -> PlanningProblem:
        versions = dict(conn.execute(select(DatasetVersion.name, DatasetVersion.version)).all())
        officers_version, calendar_version = versions.get("officers", 0), versions.get("calendar", 0)
        with self.guard:
            if self.officers is None or self.officers[0] != officers_version:
                self.officers = (officers_version, read_officers(conn))
        key = (calendar_version, start, end)
        if self.events is None or self.events[0] != key:
            self.events = (key, read_events(conn, start, end))
        if policy_version not in self.policies:
            self.policies[policy_version] = read_policy(conn, policy_version)[1]
        return PlanningProblem(
            organisation=london(),
            officers=self.officers[1],
            events=self.events[1],
            policy=self.policies[policy_version],
            start=start,
            end=end,
        )


@dataclass
class VersionService:
    """One per database: a blocking engine for the feature's threads, the warm version per lineage
    and one lock per lineage (re-plans of one lineage in this process run one at a time)."""

    engine: Engine
    inputs: _Inputs = field(default_factory=_Inputs)
    live: dict[str, tuple[str, LiveVersion]] = field(default_factory=dict)
    locks: dict[str, threading.Lock] = field(default_factory=lambda: defaultdict(threading.Lock))
    guard: threading.Lock = field(default_factory=threading.Lock)

    def lock(self, series: str) -> threading.Lock:
        with self.guard:
            return self.locks[series]


_SERVICES: dict[str, VersionService] = {}
_SERVICES_GUARD = threading.Lock()


def service_for(db: DatabaseSettings) -> VersionService:
    with _SERVICES_GUARD:
        found = _SERVICES.get(db.sync_url)
        if found is None:
            found = _SERVICES[db.sync_url] = VersionService(engine=make_sync_engine(db, pool_size=2))
        return found


# --------------------------------------------------------------------------- reading the lineage


def _plan_row(conn: Connection, plan_id: str) -> Any:
    row = conn.execute(
        select(
            PlanRecord.job_id,
            PlanRecord.input_hash,
            PlanRecord.start,
            PlanRecord.end,
            PlanRecord.policy_version,
        ).where(PlanRecord.job_id == plan_id)
    ).first()
    if row is None:
        raise ProblemError(404, f"No stored plan {plan_id!r}.")
    return row


def _version_rows(conn: Connection, plan_id: str, upto: int | None = None) -> list[Any]:
    query = select(PlanVersion).where(PlanVersion.series == plan_id)
    if upto is not None:
        query = query.where(PlanVersion.number <= upto)
    return list(conn.execute(query.order_by(PlanVersion.number)).all())


def _version_row(conn: Connection, plan_id: str, number: int) -> Any:
    _plan_row(conn, plan_id)
    row = conn.execute(
        select(PlanVersion).where(PlanVersion.series == plan_id, PlanVersion.number == number)
    ).first()
    if row is None:
        raise ProblemError(404, f"Plan {plan_id!r} has no version {number}" + _published_hint(conn, plan_id))
    return row


def _published_hint(conn: Connection, plan_id: str) -> str:
    latest = _latest_number(conn, plan_id)
    return f"; the latest is {latest}." if latest else "; it is not published (POST .../publish)."


def _latest_number(conn: Connection, plan_id: str) -> int:
    return int(
        conn.execute(select(func.max(PlanVersion.number)).where(PlanVersion.series == plan_id)).scalar() or 0
    )


def _materialise(conn: Connection, plan_id: str, upto: int) -> tuple[PlanningProblem, Plan, str]:
    """The inputs and plan of version `upto`, rebuilt from the published plan and the deltas."""
    from api.jobs.snapshot import decompress

    root = conn.execute(
        select(PlanRecord.plan_blob, PlanRecord.input_hash).where(PlanRecord.job_id == plan_id)
    ).one()
    snapshot = conn.execute(
        select(ProblemSnapshot.blob).where(ProblemSnapshot.hash == root.input_hash)
    ).scalar_one()
    problem = msgspec.msgpack.decode(decompress(snapshot), type=PlanningProblem)
    plan = msgspec.msgpack.decode(decompress(root.plan_blob), type=Plan)
    rows = _version_rows(conn, plan_id, upto)
    if not rows or rows[-1].number != upto:
        raise ProblemError(404, f"Plan {plan_id!r} has no version {upto}.")
    by_key = {(a.service_number, a.day): a for a in plan.assignments}
    shortfalls: dict[dt.date, list[Shortfall]] = defaultdict(list)
    for s in plan.shortfalls:
        shortfalls[s.day].append(s)
    for row in rows[1:]:
        stored = _unpack(row.delta, StoredDelta)
        problem = apply_delta(problem, stored.inputs)
        for a in stored.plan.removed:
            by_key.pop((a.service_number, a.day), None)
        for a in stored.plan.added:
            by_key[(a.service_number, a.day)] = a
        for day in stored.plan.days:
            shortfalls.pop(day, None)
        for s in stored.plan.shortfalls:
            shortfalls[s.day].append(s)
    planned = {e.external_id for e in problem.events}
    assignments = sorted(by_key.values(), key=lambda a: (a.day, a.event_id, a.tour_index, a.unit_id, a.slot))
    kept = [s for day in sorted(shortfalls) for s in shortfalls[day] if s.event_id in planned]
    return problem, Plan(assignments=assignments, shortfalls=kept, method="re-plan"), rows[-1].id


def _live(svc: VersionService, conn: Connection, plan_id: str, number: int) -> LiveVersion:
    """The warm version if this process holds it, else one rebuilt from the lineage."""
    version_id = _version_row(conn, plan_id, number).id
    held = svc.live.get(plan_id)
    if held is not None and held[0] == version_id:
        return held[1]
    problem, plan, _ = _materialise(conn, plan_id, number)
    live = LiveVersion(problem, plan)
    svc.live[plan_id] = (version_id, live)
    return live


# --------------------------------------------------------------------------- versions


def _links(plan_id: str, number: int) -> dict[str, str]:
    base = f"/plans/{plan_id}/versions/{number}"
    return {
        "self": base,
        "diff": f"{base}/diff",
        "notifications": f"{base}/notifications",
        "notifications_csv": f"{base}/notifications.csv",
        "assignments": f"{base}/assignments",
        "replan": f"{base}/replan",
        "plan": f"/plans/{plan_id}/summary",
    }


def version_out(row: Any) -> VersionOut:
    parent = row.number - 1 if row.number > 1 else None
    return VersionOut(
        id=row.id,
        plan_id=row.series,
        number=row.number,
        parent=parent,
        kind=row.kind,
        author=row.author,
        reason=row.reason,
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        as_of=london_time(row.as_of),
        published_through=row.published_through,
        inputs=json.loads(row.inputs),
        assignments_added=row.assignments_added,
        assignments_removed=row.assignments_removed,
        officers_changed=row.officers_changed,
        disruption_cost=row.disruption_cost,
        officers_short=row.officers_short,
        stats=_stats_out(row.stats),
        links=_links(row.series, row.number),
    )


def _stats_out(text: str) -> ReplanStatsOut | None:
    stats = json.loads(text)
    return msgspec.convert(stats, ReplanStatsOut) if stats else None


def publish(svc: VersionService, plan_id: str, body: PublishRequest, key_id: str) -> VersionOut:
    with svc.engine.begin() as conn:
        plan = _plan_row(conn, plan_id)
        latest = _latest_number(conn, plan_id)
        if latest:
            raise ProblemError(
                409,
                f"Plan {plan_id!r} is already published; its latest version is {latest}.",
                kind="already-published",
            )
        if body.through is not None and not plan.start <= body.through <= plan.end:
            raise ProblemError(422, f"through must fall within the plan's days, {plan.start} to {plan.end}.")
        now = utcnow()
        version_id = str(uuid.uuid4())
        conn.execute(
            insert(PlanVersion).values(
                id=version_id,
                series=plan_id,
                number=1,
                parent_id=None,
                kind="published",
                author=key_id,
                reason=body.reason,
                created_at=now,
                as_of=now,
                published_through=body.through,
                input_hash=plan.input_hash,
                delta=None,
                inputs="[]",
                stats="{}",
                assignments_added=0,
                assignments_removed=0,
                officers_changed=0,
                disruption_cost=0.0,
                officers_short=0,
            )
        )
        return version_out(conn.execute(select(PlanVersion).where(PlanVersion.id == version_id)).one())


def list_versions(svc: VersionService, plan_id: str) -> VersionList:
    with svc.engine.connect() as conn:
        _plan_row(conn, plan_id)
        rows = _version_rows(conn, plan_id)
    return VersionList(items=[version_out(r) for r in rows], latest=rows[-1].number if rows else 0)


def get_version(svc: VersionService, plan_id: str, number: int) -> VersionOut:
    with svc.engine.connect() as conn:
        return version_out(_version_row(conn, plan_id, number))


# --------------------------------------------------------------------------- re-plan


def _request_hash(plan_id: str, number: int, body: ReplanRequest) -> str:
    return hashlib.sha256(msgspec.json.encode([plan_id, number, body])).hexdigest()


def replan_version(
    svc: VersionService,
    plan_id: str,
    number: int,
    body: ReplanRequest,
    key_id: str,
    idempotency_key: str | None,
) -> tuple[VersionOut, bool]:
    """(the new version, True) or, for a retried Idempotency-Key, (the version it made, False)."""
    digest = _request_hash(plan_id, number, body)
    with svc.lock(plan_id):
        if idempotency_key:
            done = _idempotent(svc, key_id, idempotency_key, digest)
            if done is not None:
                return done, False
        with svc.engine.connect() as conn:
            plan = _plan_row(conn, plan_id)
            latest = _latest_number(conn, plan_id)
            if not latest:
                raise ProblemError(
                    409, f"Plan {plan_id!r} is not published; publish it first.", kind="not-published"
                )
            if number != latest:
                raise _stale(plan_id, number, latest)
            parent = _version_row(conn, plan_id, number)
            try:
                after = svc.inputs.problem(conn, plan.start, plan.end, plan.policy_version)
            except InputError as exc:
                raise ProblemError(422, str(exc)) from exc
            live = _live(svc, conn, plan_id, number)
            pins = tuple(
                Pin(event_id=p.event_id, tour_index=p.tour_index, service_number=p.service_number)
                for p in conn.execute(select(PlanPin).where(PlanPin.series == plan_id)).all()
            )
        as_of = _as_of(body.as_of)
        before = live.problem
        options = ReplanOptions(
            as_of=as_of, pins=pins, published_through=parent.published_through, unit_tag=f"v{number + 1}."
        )
        try:
            result = replan(live, after, options)
        except ReplanRefused as exc:
            raise ProblemError(409, str(exc), kind="replan-refused") from exc
        except Exception:
            svc.live.pop(plan_id, None)  # half-applied: rebuild from the lineage next time
            raise
        try:
            moved, days = {c.service_number for c in result.changes}, set(result.delta.days)
            violations = validate_change(after, live.scope(moved, days), moved, days)
            if violations:
                raise ProblemError(
                    500,
                    f"The re-plan broke {len(violations)} rule(s) ({violations[0].rule}: {violations[0].message}); "
                    "nothing was stored.",
                    kind="replan-invalid",
                )
            stored = _store(svc, plan_id, parent, before, after, live, result, body, key_id, as_of)
        except BaseException:
            svc.live.pop(plan_id, None)
            raise
        svc.live[plan_id] = (stored.id, live)
        if idempotency_key:
            _remember(svc, key_id, idempotency_key, digest, stored.id)
        return stored, True


def _stale(plan_id: str, number: int, latest: int) -> ProblemError:
    return ProblemError(
        409,
        f"Version {number} of plan {plan_id!r} is not the latest: re-plan version {latest} "
        f"(/plans/{plan_id}/versions/{latest}).",
        kind="stale-version",
    )


def _as_of(value: dt.datetime | None) -> dt.datetime:
    """Event times are naive London local time; so is a re-plan's moment."""
    from api.imports import LONDON

    moment = value or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LONDON).replace(tzinfo=None)


def _shortfalls(live: LiveVersion) -> list[Shortfall]:
    return [s for day in sorted(live.shortfalls) for s in live.shortfalls[day]]


def _coverage(live: LiveVersion, delta: VersionDelta, problem: PlanningProblem) -> list[CoverageChange]:
    keys = sorted({(a.event_id, a.tour_index, a.role) for a in (*delta.added, *delta.removed)})
    demand = {e.external_id: {d.role: d.count for d in e.demand} for e in problem.events}
    added = {a.unit_id for a in delta.added}
    removed = {a.unit_id for a in delta.removed}
    out = []
    for event_id, tour, role in keys:
        now = {
            u
            for u in live.units_of_tour.get((event_id, tour), ())
            if live.by_unit[u] and live.by_unit[u][0].role == role
        }
        gone = {
            a.unit_id for a in delta.removed if (a.event_id, a.tour_index, a.role) == (event_id, tour, role)
        }
        before = (now - (added - removed)) | gone
        out.append(
            CoverageChange(
                event_id=event_id,
                tour_index=tour,
                role=role,
                required=demand.get(event_id, {}).get(role, 0),
                before=len(before),
                after=len(now),
            )
        )
    return out


def _store(
    svc: VersionService,
    plan_id: str,
    parent: Any,
    before: PlanningProblem,
    after: PlanningProblem,
    live: LiveVersion,
    result: ReplanResult,
    body: ReplanRequest,
    key_id: str,
    as_of: dt.datetime,
) -> VersionOut:
    number = parent.number + 1
    version_id = str(uuid.uuid4())
    delta = StoredDelta(
        plan=result.delta,
        inputs=input_delta(before, after, result.inputs),
        coverage=_coverage(live, result.delta, after),
    )
    stats = result.stats
    names = {}
    numbers = sorted({c.service_number for c in result.changes})
    try:
        with svc.engine.begin() as conn:
            for chunk in _chunks(numbers, 500):
                names.update(
                    conn.execute(
                        select(OfficerRow.service_number, OfficerRow.name).where(
                            OfficerRow.service_number.in_(chunk)
                        )
                    ).all()
                )
            conn.execute(
                insert(PlanVersion).values(
                    id=version_id,
                    series=plan_id,
                    number=number,
                    parent_id=parent.id,
                    kind="replan",
                    author=key_id,
                    reason=body.reason,
                    created_at=utcnow(),
                    as_of=as_of,
                    published_through=parent.published_through,
                    input_hash=parent.input_hash,  # the published inputs; this version's are its delta
                    delta=_pack(delta),
                    inputs=json.dumps(result.inputs.describe()),
                    stats=json.dumps(
                        {
                            "seconds": stats.seconds,
                            "days": [str(d) for d in stats.days],
                            "withdrawn_forced": stats.withdrawn_forced,
                            "members_replaced": stats.members_replaced,
                            "units_added": stats.units_added,
                            "units_released": stats.units_released,
                            "frozen_released": stats.frozen_released,
                            "units_made_compliant": stats.units_made_compliant,
                            "short_before": stats.short_before,
                            "short_after": stats.short_after,
                        }
                    ),
                    assignments_added=len(result.delta.added),
                    assignments_removed=len(result.delta.removed),
                    officers_changed=len(numbers),
                    disruption_cost=round(sum(c.cost for c in result.changes), 3),
                    officers_short=stats.short_after,
                )
            )
            rows = [
                _change_row(plan_id, version_id, number, c, names.get(c.service_number, ""), parent)
                for c in result.changes
            ]
            for chunk in _chunks(rows, 1000):
                conn.execute(insert(PlanChange), chunk)
            stored = conn.execute(select(PlanVersion).where(PlanVersion.id == version_id)).one()
            return version_out(stored)
    except IntegrityError as exc:
        with svc.engine.connect() as conn:
            latest = _latest_number(conn, plan_id)
        raise _stale(plan_id, parent.number, latest) from exc


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _change_row(
    plan_id: str, version_id: str, number: int, c: DutyChange, name: str, parent: Any
) -> dict[str, Any]:
    through = parent.published_through
    return {
        "series": plan_id,
        "version_id": version_id,
        "number": number,
        "service_number": c.service_number,
        "name": name,
        "unit": c.unit,
        "day": c.day,
        "kind": c.kind,
        "event_id": c.after.event_id or c.before.event_id,
        "before": dumps(c.before),
        "after": dumps(c.after),
        "notice_days": c.notice_days,
        "clear_days": c.clear_days,
        "cost_class": c.cost_class,
        "pay": c.pay,
        "weight": c.weight,
        "notify": through is None or c.day <= through,
    }


def _idempotent(svc: VersionService, key_id: str, key: str, digest: str) -> VersionOut | None:
    with svc.engine.connect() as conn:
        row = conn.execute(
            select(IdempotentRequest).where(
                IdempotentRequest.key_id == key_id, IdempotentRequest.idempotency_key == key
            )
        ).first()
        if row is None:
            return None
        if row.request_hash != digest:
            raise ProblemError(
                422, "This Idempotency-Key was used for a different request.", kind="idempotency-key-reused"
            )
        return version_out(conn.execute(select(PlanVersion).where(PlanVersion.id == row.version_id)).one())


def _remember(svc: VersionService, key_id: str, key: str, digest: str, version_id: str) -> None:
    with svc.engine.begin() as conn:
        conn.execute(
            insert(IdempotentRequest).values(
                key_id=key_id,
                idempotency_key=key,
                request_hash=digest,
                version_id=version_id,
                created_at=utcnow(),
            )
        )


# --------------------------------------------------------------------------- reading versions


_duty = msgspec.json.Decoder(Duty)


def _duty_out(text: str) -> DutyOut:
    d = _duty.decode(text)
    return DutyOut(
        kind=d.kind,
        start=london_time(d.start) if d.start else None,  # event and roster times are London's
        end=london_time(d.end) if d.end else None,
        event_id=d.event_id,
        tour_index=d.tour_index,
        role=d.role,
    )


def _change_out(row: Any) -> ChangeOut:
    return ChangeOut(
        version=row.number,
        service_number=row.service_number,
        unit=row.unit,
        day=row.day,
        kind=row.kind,
        before=_duty_out(row.before),
        after=_duty_out(row.after),
        notice_days=row.notice_days,
        clear_days=row.clear_days,
        cost_class=row.cost_class,
        pay=row.pay,
        weight=row.weight,
        cost=round(row.pay + row.weight, 4),
        notify=bool(row.notify),
    )


def diff(svc: VersionService, plan_id: str, number: int) -> DiffOut:
    with svc.engine.connect() as conn:
        row = _version_row(conn, plan_id, number)
        changes = conn.execute(
            select(PlanChange)
            .where(PlanChange.version_id == row.id)
            .order_by(PlanChange.service_number, PlanChange.day)
        ).all()
    coverage = _unpack(row.delta, StoredDelta).coverage if row.delta is not None else []
    return DiffOut(
        version=number,
        parent=number - 1 if number > 1 else None,
        changes=[_change_out(c) for c in changes],
        coverage=coverage,
    )


def _describe(d: DutyOut) -> str:
    if d.kind == "event":
        return f"{d.event_id} tour {d.tour_index} ({d.role}) {d.start:%Y-%m-%d %H:%M}-{d.end:%H:%M}"  # type: ignore[union-attr]
    if d.kind == "rostered":
        return f"rostered duty {d.start:%H:%M}-{d.end:%H:%M}"  # type: ignore[union-attr]
    return "rest day" if d.kind == "rest" else "leave"


def notifications(svc: VersionService, plan_id: str, number: int) -> NotificationList:
    """One row per officer-day to be told (inside the published horizon), with the stored name."""
    with svc.engine.connect() as conn:
        row = _version_row(conn, plan_id, number)
        changes = conn.execute(
            select(PlanChange)
            .where(PlanChange.version_id == row.id, PlanChange.notify.is_(True))
            .order_by(PlanChange.day, PlanChange.unit, PlanChange.service_number)
        ).all()
    items = []
    for c in changes:
        out = _change_out(c)
        items.append(
            NotificationOut(
                service_number=c.service_number,
                name=c.name,
                unit=c.unit,
                day=c.day,
                change=c.kind,
                before=_describe(out.before),
                after=_describe(out.after),
                notice_days=c.notice_days,
                clear_days=c.clear_days,
                cost_class=c.cost_class,
                cost=out.cost,
            )
        )
    return NotificationList(version=number, items=items)


NOTIFICATION_HEADER = (
    "service_number",
    "name",
    "unit",
    "day",
    "change",
    "before",
    "after",
    "notice_days",
    "clear_days",
    "cost_class",
    "cost",
)


def notification_rows(listing: NotificationList) -> list[list[Any]]:
    return [[getattr(n, f) for f in NOTIFICATION_HEADER] for n in listing.items]


def change_log(
    svc: VersionService,
    plan_id: str,
    first: dt.date | None,
    last: dt.date | None,
    service_number: str | None,
    event_id: str | None,
    limit: int,
    offset: int,
) -> ChangePage:
    conditions = [PlanChange.series == plan_id]
    if first is not None:
        conditions.append(PlanChange.day >= first)
    if last is not None:
        conditions.append(PlanChange.day <= last)
    if service_number is not None:
        conditions.append(PlanChange.service_number == service_number)
    if event_id is not None:
        conditions.append(PlanChange.event_id == event_id)
    where = and_(*conditions)
    with svc.engine.connect() as conn:
        _plan_row(conn, plan_id)
        total = int(conn.execute(select(func.count()).select_from(PlanChange).where(where)).scalar_one())
        rows = conn.execute(
            select(PlanChange)
            .where(where)
            .order_by(PlanChange.number, PlanChange.day, PlanChange.service_number)
            .limit(limit)
            .offset(offset)
        ).all()
    return ChangePage(items=[_change_out(r) for r in rows], page=page_info(total, limit, offset))


def assignments(
    svc: VersionService,
    plan_id: str,
    number: int,
    service_number: str | None,
    event_id: str | None,
    first: dt.date | None,
    last: dt.date | None,
    limit: int,
    offset: int,
) -> AssignmentPage:
    with svc.engine.connect() as conn:
        held = svc.live.get(plan_id)
        version_id = _version_row(conn, plan_id, number).id
        if held is not None and held[0] == version_id:
            chosen: Iterable[Assignment] = held[1].assignments
        else:
            chosen = _materialise(conn, plan_id, number)[1].assignments
    rows = [
        a
        for a in chosen
        if (service_number is None or a.service_number == service_number)
        and (event_id is None or a.event_id == event_id)
        and (first is None or a.day >= first)
        and (last is None or a.day <= last)
    ]
    rows.sort(key=lambda a: (a.day, a.event_id, a.tour_index, a.unit_id, a.slot))
    page = rows[offset : offset + limit]
    return AssignmentPage(
        version=number,
        items=[
            AssignmentOut(
                **{**msgspec.structs.asdict(a), "start": london_time(a.start), "end": london_time(a.end)}
            )
            for a in page
        ],
        page=page_info(len(rows), limit, offset),
    )


def recommendations(
    svc: VersionService, plan_id: str, number: int, event_id: str, tour_index: int, role: str, k: int
) -> RecommendationOut:
    with svc.lock(plan_id), svc.engine.connect() as conn:
        live = _live(svc, conn, plan_id, number)
        event = next((e for e in live.problem.events if e.external_id == event_id), None)
        if event is None:
            raise ProblemError(404, f"Event {event_id!r} is not planned in version {number}.")
        tour = next((t for t in event_tours(event, live.problem.policy) if t.index == tour_index), None)
        if tour is None:
            raise ProblemError(404, f"Event {event_id!r} has no tour {tour_index}.")
        if role not in live.problem.policy.roles:
            raise ProblemError(422, f"Unknown role {role!r}.")
        if not live.problem.start <= tour.day <= live.problem.end:
            raise ProblemError(422, f"Tour {tour_index} of {event_id!r} falls outside the plan's days.")
        found = recommend(live.ctx, event, tour, role, _as_of(None), k=k)
    return RecommendationOut(
        version=number,
        event_id=found.event_id,
        tour_index=found.tour_index,
        day=found.day,
        role=found.role,
        suitable=found.suitable,
        lawful=found.lawful,
        excluded=found.excluded,
        candidates=[CandidateOut(**msgspec.structs.asdict(c)) for c in found.candidates],
    )


# --------------------------------------------------------------------------- pins


def _pin_out(row: Any) -> PinOut:
    return PinOut(
        id=row.id,
        event_id=row.event_id,
        tour_index=row.tour_index,
        service_number=row.service_number,
        created_by=row.created_by,
        created_at=utc(row.created_at),  # type: ignore[arg-type]
    )


def add_pin(svc: VersionService, plan_id: str, body: PinIn, key_id: str) -> PinOut:
    with svc.engine.begin() as conn:
        _plan_row(conn, plan_id)
        result = conn.execute(
            insert(PlanPin)
            .values(
                series=plan_id,
                event_id=body.event_id,
                tour_index=body.tour_index,
                service_number=body.service_number,
                created_by=key_id,
                created_at=utcnow(),
            )
            .returning(PlanPin.id)
        )
        pin_id = result.scalar_one()
        return _pin_out(conn.execute(select(PlanPin).where(PlanPin.id == pin_id)).one())


def list_pins(svc: VersionService, plan_id: str) -> PinList:
    with svc.engine.connect() as conn:
        _plan_row(conn, plan_id)
        rows = conn.execute(select(PlanPin).where(PlanPin.series == plan_id).order_by(PlanPin.id)).all()
    return PinList(items=[_pin_out(r) for r in rows])


def remove_pin(svc: VersionService, plan_id: str, pin_id: int) -> None:
    with svc.engine.begin() as conn:
        gone = conn.execute(delete(PlanPin).where(PlanPin.series == plan_id, PlanPin.id == pin_id))
        if gone.rowcount == 0:
            raise ProblemError(404, f"Plan {plan_id!r} has no pin {pin_id}.")


# --------------------------------------------------------------------------- absences


def add_absence(svc: VersionService, service_number: str, body: AbsenceIn, key_id: str) -> AbsenceOut:
    """Record why an officer is unavailable and add the dates to their leave (what plans read), in
    one transaction that moves the officers' dataset version on."""
    if body.end < body.start:
        raise ProblemError(422, "end must not be before start.")
    if (body.end - body.start).days > 366:
        raise ProblemError(422, "An absence may span at most a year; record longer ones as several.")
    with svc.engine.begin() as conn:
        _lock_officers(conn)
        row = conn.execute(
            select(*OFFICER_COLUMNS).where(OfficerRow.service_number == service_number)
        ).first()
        if row is None:
            raise ProblemError(404, f"No officer {service_number!r}.")
        officer = officer_from_row(row)
        merged = _merge([*officer.leave, DateRange(start=body.start, end=body.end)])
        now = utcnow()
        conn.execute(
            update(OfficerRow)
            .where(OfficerRow.service_number == service_number)
            .values(
                leave=officer_values(msgspec.structs.replace(officer, leave=tuple(merged)))["leave"],
                updated_at=now,
            )
        )
        conn.execute(
            update(DatasetVersion)
            .where(DatasetVersion.name == "officers")
            .values(version=DatasetVersion.version + 1, updated_at=now)
        )
        version = conn.execute(
            select(DatasetVersion.version).where(DatasetVersion.name == "officers")
        ).scalar_one()
        changed = msgspec.structs.replace(officer, leave=tuple(merged))
        absence_id = conn.execute(
            insert(OfficerAbsence)
            .values(
                service_number=service_number,
                start=body.start,
                end=body.end,
                reason=body.reason,
                note=body.note,
                created_by=key_id,
                created_at=now,
            )
            .returning(OfficerAbsence.id)
        ).scalar_one()
        stored = conn.execute(select(OfficerAbsence).where(OfficerAbsence.id == absence_id)).one()
    svc.inputs.patch_officer(version, changed)
    return AbsenceOut(
        id=stored.id,
        service_number=stored.service_number,
        start=stored.start,
        end=stored.end,
        reason=stored.reason,
        note=stored.note,
        created_by=stored.created_by,
        created_at=utc(stored.created_at),  # type: ignore[arg-type]
    )


def _lock_officers(conn: Connection) -> None:
    """The blocking twin of api.db.repositories.lock_dataset("officers"): writers of the officers
    dataset run one after another (SQLite: the write lock before the first read)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(
            select(DatasetVersion.version).where(DatasetVersion.name == "officers").with_for_update()
        )


def _merge(ranges: list[DateRange]) -> list[DateRange]:
    out: list[DateRange] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if out and r.start <= out[-1].end + dt.timedelta(days=1):
            out[-1] = DateRange(start=out[-1].start, end=max(out[-1].end, r.end))
        else:
            out.append(r)
    return out


def stored_result(svc: VersionService, plan_id: str, number: int) -> ReplanResult:
    """A stored re-plan version read back as the solver's result (for benchmarks and audits): its
    delta, its priced changes and its figures."""
    from planner.changes import InputChanges
    from solver.replan import ReplanStats

    with svc.engine.connect() as conn:
        row = _version_row(conn, plan_id, number)
        changes = conn.execute(select(PlanChange).where(PlanChange.version_id == row.id)).all()
    stored = _unpack(row.delta, StoredDelta)
    stats = json.loads(row.stats)
    return ReplanResult(
        delta=stored.plan,
        changes=[
            DutyChange(
                service_number=c.service_number,
                unit=c.unit,
                day=c.day,
                kind=c.kind,
                before=_duty.decode(c.before),
                after=_duty.decode(c.after),
                notice_days=c.notice_days,
                clear_days=c.clear_days,
                cost_class=c.cost_class,
                pay=c.pay,
                weight=c.weight,
            )
            for c in changes
        ],
        inputs=InputChanges(),
        stats=ReplanStats(
            seconds=stats["seconds"],
            days=[dt.date.fromisoformat(d) for d in stats["days"]],
            withdrawn_forced=stats["withdrawn_forced"],
            members_replaced=stats["members_replaced"],
            units_added=stats["units_added"],
            units_released=stats["units_released"],
            units_made_compliant=stats["units_made_compliant"],
            frozen_released=stats["frozen_released"],
            replacement_candidates=0,
            short_before=stats["short_before"],
            short_after=stats["short_after"],
        ),
    )
