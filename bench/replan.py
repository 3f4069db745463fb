"""Re-planning benchmark: a seeded stream of short-notice changes to the full demo year's published
plan, each answered by a least-disruption re-plan, validated and (with --store) stored.

The stream, in time order from --from (the clock advances a few hours per change): new
demonstrations of 10-400 officers at 0-6 days' notice, sickness absences of deployed officers,
demand changes, cancellations, and one Carnival-size change (a march of 1,200 officers). Per kind
it reports p50/p95 wall time to a validated (and stored) version, the published assignments changed,
the forced minimum (the fewest changes any lawful version with the same coverage needs), rest
days cancelled at under the short-notice threshold where a compliant alternative existed, and
validator violations. Recommendations for random tours are timed too.

Forced minimum per change, a lower bound on any version covering what this one covers:
- new event or more demand: every officer of every unit the version adds must be told (one change each);
- less demand: the officers of the cheapest units that must go (the smallest units);
- cancellation: every future assignment of the event;
- sickness: each future duty of the officer goes, and each unit still covered after the change
  needs one replacement.

"Compliant alternative": for a unit that cancelled rest days at short notice, the unit is taken
off the roster and the exact cover measurement (planner.cover) asks whether some source could form
it with fewer rest-day cancellations; if so, the cancellation was avoidable.

Run: `python -m bench.replan [--changes 206] [--out bench/results/replan.json]` (the year plan is
solved once and cached in bench/results/replan_plan_<year-seed-start-end>.msgpack;
--resolve forces a new one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from tqdm import tqdm

from api.imports import LONDON
from planner.changes import InputChanges
from planner.cover import measure
from planner.demo import demo_problem, protest_demand
from planner.disruption import REST_DAY_SHORT_NOTICE
from planner.domain import DateRange, Event, PlanningProblem, RoleDemand
from planner.plan import Plan
from planner.recommend import recommend
from planner.roster import ON
from planner.rules import event_tours
from planner.validate import validate, validate_change
from solver.live import apply
from solver.replan import LiveVersion, ReplanOptions, ReplanResult, ReplanStats, VersionDelta, replan

DEFAULT_OUT = Path("bench/results/replan.json")
PLAN_CACHE = Path("bench/results")  # replan_plan_<year-seed-start-end>.msgpack: the plan, solved once
TARGET_NEW_EVENT_P95 = 1.0
TARGET_RECOMMEND_P95 = 0.2
TARGET_LARGE_CHANGE = 30.0
TARGET_CHANGED_RATIO = 1.5


def year_plan(problem: PlanningProblem, resolve: bool, key: str) -> tuple[Plan, float]:
    """The published plan: solved once and cached under `key` (what made the problem), checked
    against the problem's events and officers before it is used."""
    cache = PLAN_CACHE / f"replan_plan_{key}.msgpack"
    fingerprint = [len(problem.officers), len(problem.events), str(problem.start), str(problem.end)]
    if cache.exists() and not resolve:
        cached = msgspec.msgpack.decode(cache.read_bytes())
        if cached.get("fingerprint") == fingerprint:
            return msgspec.convert(cached["plan"], Plan), float(cached["seconds"])
    from solver.pipeline import solve

    started = time.perf_counter()
    plan = solve(problem)
    seconds = time.perf_counter() - started
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(msgspec.msgpack.encode({"fingerprint": fingerprint, "plan": plan, "seconds": seconds}))
    return plan, seconds


class Stream:
    """The seeded change stream over a problem that evolves as changes are applied."""

    def __init__(self, problem: PlanningProblem, live: LiveVersion, seed: int, start: dt.datetime) -> None:
        self.problem = problem
        self.live = live
        self.rng = random.Random(seed)
        self.clock = start
        self.counter = 0
        self.boroughs = [b.code for b in problem.organisation.boroughs]

    def kinds(self, n: int) -> list[str]:
        fixed = ["sickness"] * 20 + ["demand"] * 10 + ["cancel"] * 5 + ["large"]
        kinds = fixed + ["new_event"] * max(0, n - len(fixed))
        self.rng.shuffle(kinds)
        return kinds

    def tick(self) -> None:
        self.clock += dt.timedelta(hours=self.rng.choice((2, 3, 4, 6)))

    def _future_events(self, min_days: int = 0) -> list[Event]:
        soon = self.clock.date() + dt.timedelta(days=min_days)
        horizon = self.clock.date() + dt.timedelta(days=21)
        return [
            e
            for e in self.problem.events
            if e.status == "planned" and soon <= e.start.date() <= horizon and e.start > self.clock
        ]

    def new_event(
        self, officers: int, notice: int, march: bool, priority: str
    ) -> tuple[PlanningProblem, dict[str, Any]]:
        self.counter += 1
        day = self.clock.date() + dt.timedelta(days=notice)
        hour = self.rng.randint(10, 17) if notice > 0 else max(self.clock.hour + 3, 12)
        start = dt.datetime.combine(day, dt.time(min(hour, 19)))
        event = Event(
            external_id=f"SN-{self.counter:04d}",
            name=f"Short-notice {'march' if march else 'demonstration'} {self.counter}",
            kind="demonstration",
            borough=self.rng.choice(self.boroughs),
            start=start,
            end=start + dt.timedelta(hours=self.rng.choice((3, 4, 5))),
            priority=priority,  # type: ignore[arg-type]
            demand=protest_demand(officers, self.rng, march),
            notified=self.clock.date(),
        )
        problem = msgspec.structs.replace(self.problem, events=(*self.problem.events, event))
        return problem, {"event": event.external_id, "officers": officers, "notice_days": notice}

    def make(self, kind: str) -> tuple[PlanningProblem, dict[str, Any]] | None:
        rng = self.rng
        if kind == "new_event":
            size = int(round(10 * (40 ** rng.random())))  # 10-400, most of them small
            return self.new_event(
                size, rng.randint(0, 6), rng.random() < 0.4, rng.choice(("normal", "normal", "high"))
            )
        if kind == "large":
            return self.new_event(1200, rng.randint(3, 6), True, "high")
        if kind == "sickness":
            soon = [
                a
                for day in range(1, 5)
                for u in self.live.units_of_day.get(self.clock.date() + dt.timedelta(days=day), ())
                for a in self.live.by_unit[u]
                if a.start > self.clock + dt.timedelta(hours=2)
            ]
            if not soon:
                return None
            a = rng.choice(soon)
            # Reported today, from tomorrow at the earliest: today's started duties are history.
            first = max(
                self.clock.date() + dt.timedelta(days=1), a.day - dt.timedelta(days=rng.randint(0, 1))
            )
            last = a.day + dt.timedelta(days=rng.randint(0, 3))
            officers = tuple(
                msgspec.structs.replace(o, leave=(*o.leave, DateRange(start=first, end=last)))
                if o.service_number == a.service_number
                else o
                for o in self.problem.officers
            )
            info = {"officer": a.service_number, "first": str(first), "last": str(last)}
            return msgspec.structs.replace(self.problem, officers=officers), info
        if kind in ("demand", "cancel"):
            candidates = [e for e in self._future_events(1) if e.demand]
            if kind == "cancel":
                candidates = [
                    e
                    for e in candidates
                    if any(
                        self.live.units_of_tour.get((e.external_id, t.index))
                        for t in event_tours(e, self.problem.policy)
                    )
                ]
            if not candidates:
                return None
            event = rng.choice(candidates)
            if kind == "cancel":
                changed = msgspec.structs.replace(event, status="cancelled")
                info = {"event": event.external_id}
            else:
                demands = list(event.demand)
                i = rng.randrange(len(demands))
                step = rng.choice((-2, -1, 1, 2, 3))
                demands[i] = RoleDemand(role=demands[i].role, count=max(0, demands[i].count + step))
                changed = msgspec.structs.replace(event, demand=tuple(d for d in demands if d.count > 0))
                info = {"event": event.external_id, "role": demands[i].role, "step": step}
            events = tuple(changed if e.external_id == event.external_id else e for e in self.problem.events)
            return msgspec.structs.replace(self.problem, events=events), info
        raise ValueError(kind)


def forced_minimum(kind: str, info: dict[str, Any], result: ReplanResult, live: LiveVersion) -> int:
    """The fewest officer-day changes any lawful version covering what this one covers needs
    (changes to other events, made to free officers, are never forced)."""
    delta = result.delta
    if kind in ("new_event", "large", "demand", "cancel"):
        event = info["event"]
        return sum(1 for a in delta.added if a.event_id == event) + sum(
            1 for a in delta.removed if a.event_id == event
        )
    if kind == "sickness":
        sick = info["officer"]
        gone = [a for a in delta.removed if a.service_number == sick]
        # Each lost duty is one change; each unit that still stands needs one replacement.
        still_covered = sum(1 for a in gone if a.unit_id in live.by_unit or _re_covered(a, delta.added))
        return len(gone) + still_covered
    raise ValueError(kind)


def _re_covered(a: Any, added: list[Any]) -> bool:
    return any((x.event_id, x.tour_index, x.role) == (a.event_id, a.tour_index, a.role) for x in added)


def avoidable_short_notice(
    live: LiveVersion, result: ReplanResult, today: dt.date, tag: str
) -> tuple[int, int]:
    """(short-notice rest-day cancellations, of which a compliant alternative existed) in a version.

    A unit the version formed (its id carries the version's tag) is taken off the roster and the
    exact cover measurement asks whether some source could form it with fewer rest-day
    cancellations. A replacement inside a standing unit must come from the unit's source: it was
    avoidable if a lawful on-duty officer of that source fitting the slot was left (within floors)."""
    short = [c for c in result.changes if c.cost_class == REST_DAY_SHORT_NOTICE and c.after.unit_id]
    by_unit: dict[str, list[str]] = defaultdict(list)
    for c in short:
        by_unit[str(c.after.unit_id)].append(c.service_number)
    avoidable = 0
    events = {e.external_id: e for e in live.problem.events}
    for unit_id, cancelled in by_unit.items():
        members = list(live.by_unit.get(unit_id, ()))
        if not members:
            continue
        first = members[0]
        event = msgspec.structs.replace(events[first.event_id], notified=today)
        tour = next(t for t in event_tours(event, live.problem.policy) if t.index == first.tour_index)
        formed_here = tag in unit_id.rsplit("/", 1)[-1]
        taken = members if formed_here else [a for a in members if a.service_number in cancelled]
        live.withdraw(taken)
        try:
            if formed_here:
                cover = measure(live.ctx, event, tour, first.role, 1)
                fewest = min(
                    (s.rest_day_officers for s in cover.sources if s.units_formable > 0), default=None
                )
                avoidable += max(0, len(cancelled) - fewest) if fewest is not None else 0
            else:
                avoidable += min(len(taken), _on_duty_left(live, tour, taken))
        finally:
            apply(live.roster, taken)
            live.add(taken)
    return len(short), avoidable


def _on_duty_left(live: LiveVersion, tour: Any, posts: list[Any]) -> int:
    """Lawful on-duty officers of the posts' source who fit their slot, within the floors."""
    roster, ctx = live.roster, live.ctx
    first = posts[0]
    d = roster.day_index(tour.day)
    rows = ctx.unit_rows[first.source]
    rows = rows[np.logical_or.reduce([ctx.fits(first.role, a.slot) for a in posts])[rows]]
    rows = rows[roster.eligible(rows, d, *roster.tour_minutes(tour))]
    rows = rows[roster.status[rows, d] == ON]
    headroom = ctx.headroom(d)
    return sum(1 for g in ctx.group[rows] if headroom.get(int(g), 1) > 0)


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values), q))


class InProcess:
    """Re-plans against a LiveVersion in this process: solver, validator, nothing stored."""

    def __init__(self, problem: PlanningProblem, plan: Plan) -> None:
        started = time.perf_counter()
        self.live = LiveVersion(problem, plan)
        self.warm_seconds = time.perf_counter() - started

    def version(
        self,
        before: PlanningProblem,
        after: PlanningProblem,
        kind: str,
        info: dict[str, Any],
        clock: dt.datetime,
        tag: str,
    ) -> tuple[ReplanResult, list[Any], dict[str, float]]:
        t0 = time.perf_counter()
        result = replan(self.live, after, ReplanOptions(as_of=clock, unit_tag=tag))
        t1 = time.perf_counter()
        moved, days = {c.service_number for c in result.changes}, set(result.delta.days)
        violations = validate_change(after, self.live.scope(moved, days), moved, days)
        return result, violations, {"replan_seconds": t1 - t0, "validate_seconds": time.perf_counter() - t1}

    def recommendations(self, stream: Stream, n: int) -> list[float]:
        return _recommendations(self.live, stream, n)


class ThroughService:
    """Every change goes in through the API (event create, update and cancel, absences) and every
    version comes out of POST .../replan, stored in SQLite: the figures are the service's."""

    def __init__(self, problem: PlanningProblem, plan: Plan, folder: Path) -> None:
        import os

        from litestar.testing import TestClient

        from api.app import create_app
        from api.auth import insert_key_statement
        from api.db.engine import make_sync_engine
        from api.db.migrate import migrate
        from api.jobs import Worker
        from api.settings import DatabaseSettings, Settings, WorkerSettings

        folder.mkdir(parents=True, exist_ok=True)
        db_file = folder / "replan-bench.sqlite3"
        for stale in folder.glob("replan-bench.sqlite3*"):
            stale.unlink()
        plan_file = folder / "replan-bench-plan.json"
        plan_file.write_bytes(msgspec.json.encode(plan))
        os.environ["PLANNER_BENCH_PLAN"] = str(plan_file)
        self.settings = Settings(
            db=DatabaseSettings(url=f"sqlite:///{db_file}"),
            worker=WorkerSettings(
                mode="off", poll_seconds=0.05, solver="bench.api_bench:replay_plan", solver_workers=1
            ),
        )
        migrate(self.settings.db)
        engine = make_sync_engine(self.settings.db, pooled=False)
        with engine.begin() as conn:
            full, _id, stmt = insert_key_statement("planner", "bench")
            conn.execute(stmt)
        engine.dispose()
        self.h = {"X-API-Key": full}
        self.client = TestClient(
            create_app(self.settings, migrate=False), raise_server_exceptions=False, timeout=600
        )
        self.client.__enter__()
        c = self.client
        put = c.put(
            "/policy", json={"policy": msgspec.to_builtins(problem.policy), "note": "demo"}, headers=self.h
        )
        assert put.status_code in (200, 201), put.text
        for path, records in (
            ("/officers/import/json", problem.officers),
            ("/events/import/json", problem.events),
        ):
            r = c.post(
                path,
                content=msgspec.json.encode(records),
                headers={**self.h, "Content-Type": "application/json"},
            )
            assert r.status_code == 200, r.text
        job = c.post(
            "/plans", json={"start": str(problem.start), "end": str(problem.end)}, headers=self.h
        ).json()
        worker = Worker(self.settings)
        try:
            assert worker.run_once() == "succeeded"
        finally:
            worker.engine.dispose()
        self.plan_id = job["id"]
        started = time.perf_counter()
        r = c.post(f"/plans/{self.plan_id}/publish", json={"reason": "bench"}, headers=self.h)
        assert r.status_code == 201, r.text
        self.number = 1
        # The first re-plan builds the warm version; time it as the service's warm-up.
        self._warm()
        self.warm_seconds = time.perf_counter() - started

    def _warm(self) -> None:
        from api.features.versions import services

        svc = services.service_for(self.settings.db)
        with svc.engine.connect() as conn:
            services._live(svc, conn, self.plan_id, self.number)

    @property
    def live(self) -> LiveVersion:
        from api.features.versions import services

        return services.service_for(self.settings.db).live[self.plan_id][1]

    def _send(self, before: PlanningProblem, after: PlanningProblem, kind: str, info: dict[str, Any]) -> None:
        c, h = self.client, self.h
        if kind in ("new_event", "large"):
            event = next(e for e in after.events if e.external_id == info["event"])
            body = {k: v for k, v in msgspec.to_builtins(event).items() if v is not None}
            r = c.post("/events", json=body, headers=h)
        elif kind == "cancel":
            r = c.delete(f"/events/{info['event']}", headers=h)
        elif kind == "demand":
            event = next(e for e in after.events if e.external_id == info["event"])
            body = {
                k: v for k, v in msgspec.to_builtins(event).items() if v is not None and k != "external_id"
            }
            r = c.put(f"/events/{info['event']}", json=body, headers=h)
        else:
            r = c.post(
                f"/officers/{info['officer']}/absences",
                json={"start": info["first"], "end": info["last"], "reason": "sickness"},
                headers=h,
            )
        assert r.status_code in (200, 201, 204), r.text

    def version(
        self,
        before: PlanningProblem,
        after: PlanningProblem,
        kind: str,
        info: dict[str, Any],
        clock: dt.datetime,
        tag: str,
    ) -> tuple[ReplanResult, list[Any], dict[str, float]]:
        from api.features.versions import services

        t0 = time.perf_counter()
        self._send(before, after, kind, info)
        t1 = time.perf_counter()
        as_of = clock.replace(tzinfo=LONDON).isoformat()
        r = self.client.post(
            f"/plans/{self.plan_id}/versions/{self.number}/replan",
            json={"reason": kind, "as_of": as_of},
            headers=self.h,
        )
        t2 = time.perf_counter()
        if r.status_code == 500 and r.json().get("type", "").endswith("replan-invalid"):
            # The validator refused the version and nothing was stored: count it and go on.
            empty = ReplanResult(
                delta=VersionDelta(removed=[], added=[], days=[], shortfalls=[]),
                changes=[],
                inputs=InputChanges(),
                stats=_no_stats(),
            )
            return (
                empty,
                [r.json()["detail"]],
                {"input_seconds": t1 - t0, "replan_seconds": t2 - t1, "validate_seconds": 0.0},
            )
        assert r.status_code == 201, r.text
        self.number = r.json()["number"]
        result = services.stored_result(services.service_for(self.settings.db), self.plan_id, self.number)
        # The service stores a version only if validate_change finds nothing: a stored version has none.
        return result, [], {"input_seconds": t1 - t0, "replan_seconds": t2 - t1, "validate_seconds": 0.0}

    def recommendations(self, stream: Stream, n: int) -> list[float]:
        rng = random.Random(1)
        live = self.live
        tours = _future_tours(live, stream)
        out = []
        for _ in range(n):
            event, tour = rng.choice(tours)
            role = rng.choice([d.role for d in event.demand])
            t0 = time.perf_counter()
            r = self.client.get(
                f"/plans/{self.plan_id}/versions/{self.number}/recommendations",
                params={"event_id": event.external_id, "tour_index": tour.index, "role": role, "k": 10},
                headers=self.h,
            )
            out.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
        return out


def _no_stats() -> ReplanStats:
    return ReplanStats(
        seconds=0.0,
        days=[],
        withdrawn_forced=0,
        members_replaced=0,
        units_added=0,
        units_released=0,
        units_made_compliant=0,
        frozen_released=0,
        replacement_candidates=0,
        short_before=0,
        short_after=0,
    )


def _live_shortfalls(live: LiveVersion) -> list[Any]:
    return [s for d in sorted(live.shortfalls) for s in live.shortfalls[d]]


def run(args: argparse.Namespace) -> dict[str, Any]:
    problem = demo_problem(args.year, args.seed)
    if args.days:
        first = dt.date.fromisoformat(args.start) - dt.timedelta(days=7)
        problem = msgspec.structs.replace(problem, start=first, end=first + dt.timedelta(days=args.days - 1))
    key = f"{args.year}-{args.seed}-{problem.start}-{problem.end}"
    plan, solve_seconds = year_plan(problem, args.resolve, key)
    driver: InProcess | ThroughService = (
        ThroughService(problem, plan, Path(args.store_dir)) if args.store else InProcess(problem, plan)
    )
    live = driver.live
    stream = Stream(
        problem, live, args.seed, dt.datetime.combine(dt.date.fromisoformat(args.start), dt.time(7))
    )
    rows: list[dict[str, Any]] = []
    kinds = stream.kinds(args.changes)
    bar = tqdm(total=len(kinds), desc="changes", disable=args.no_progress)
    for kind in kinds:
        stream.tick()
        made = stream.make(kind)
        if made is None:
            bar.update(1)
            continue
        after, info = made
        tag = f"v{len(rows) + 2}."
        t0 = time.perf_counter()
        result, violations, split = driver.version(stream.problem, after, kind, info, stream.clock, tag)
        t2 = time.perf_counter()
        live = driver.live
        stream.live = live
        short, avoidable = avoidable_short_notice(live, result, stream.clock.date(), tag)
        rows.append(
            {
                "kind": kind,
                **info,
                "seconds": t2 - t0,
                **split,
                "changed": len(result.changes),
                "published_changed": sum(1 for c in result.changes if c.weight > 0 or c.pay > 0),
                "forced_minimum": forced_minimum(kind, info, result, live),
                "short_notice_cancellations": short,
                "avoidable_short_notice": avoidable,
                "violations": len(violations),
                "violation_rules": sorted({getattr(v, "rule", "refused by the service") for v in violations}),
                "violation_messages": [getattr(v, "message", str(v)) for v in violations[:3]],
                "short_before": result.stats.short_before,
                "short_after": result.stats.short_after,
                "units_released": result.stats.units_released,
                "cost": round(sum(c.cost for c in result.changes), 2),
            }
        )
        stream.problem = after
        bar.update(1)
    bar.close()
    warm_seconds = driver.warm_seconds
    recommend_seconds = driver.recommendations(stream, args.recommendations)
    final_full = None
    if not args.skip_full_validation:
        t0 = time.perf_counter()
        final_full = len(validate(live.problem, live.plan()))
        full_seconds = time.perf_counter() - t0
    by_kind: dict[str, Any] = {}
    for kind in sorted({r["kind"] for r in rows}):
        sel = [r for r in rows if r["kind"] == kind]
        secs = [r["seconds"] for r in sel]
        by_kind[kind] = {
            "changes": len(sel),
            "p50_seconds": _p(secs, 50),
            "p95_seconds": _p(secs, 95),
            "max_seconds": max(secs),
            "changed_assignments": sum(r["changed"] for r in sel),
            "forced_minimum_changes": sum(r["forced_minimum"] for r in sel),
            "avoidable_short_notice_cancellations": sum(r["avoidable_short_notice"] for r in sel),
            "short_notice_cancellations": sum(r["short_notice_cancellations"] for r in sel),
            "violations": sum(r["violations"] for r in sel),
            "officers_short_after": sum(r["short_after"] for r in sel),
        }
    small_new = [r["seconds"] for r in rows if r["kind"] == "new_event" and r["officers"] <= 100]
    large = [r["seconds"] for r in rows if r["kind"] == "large"]
    changed = sum(r["changed"] for r in rows)
    forced = sum(r["forced_minimum"] for r in rows)
    summary = {
        "changes": len(rows),
        "mode": "through the service (SQLite, stored versions)" if args.store else "in process (not stored)",
        "year_solve_seconds": round(solve_seconds, 1),
        "warm_up_seconds": round(warm_seconds, 2),
        "new_event_p95_seconds": _p(small_new, 95),
        "new_event_p50_seconds": _p(small_new, 50),
        "recommend_p95_seconds": _p(recommend_seconds, 95),
        "recommend_p50_seconds": _p(recommend_seconds, 50),
        "large_change_seconds": max(large) if large else None,
        "changed_assignments": changed,
        "forced_minimum_changes": forced,
        "changed_over_forced": round(changed / forced, 3) if forced else None,
        "avoidable_short_notice_cancellations": sum(r["avoidable_short_notice"] for r in rows),
        "violations": sum(r["violations"] for r in rows),
        "final_full_validation_violations": final_full,
        "final_full_validation_seconds": None if final_full is None else round(full_seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "by_kind": by_kind,
    }
    summary["targets"] = {
        "new_event_p95_le_1s": _ok(summary["new_event_p95_seconds"], TARGET_NEW_EVENT_P95),
        "recommend_p95_le_200ms": _ok(summary["recommend_p95_seconds"], TARGET_RECOMMEND_P95),
        "large_change_le_30s": _ok(summary["large_change_seconds"], TARGET_LARGE_CHANGE),
        "changed_le_1_5x_forced": _ok(summary["changed_over_forced"], TARGET_CHANGED_RATIO),
        "no_avoidable_short_notice": summary["avoidable_short_notice_cancellations"] == 0,
        "no_violations": summary["violations"] == 0 and final_full in (0, None),
    }
    return {"rows": rows, "summary": summary}


def _ok(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target


def _future_tours(live: LiveVersion, stream: Stream) -> list[tuple[Event, Any]]:
    problem = live.problem
    return [
        (e, t)
        for e in problem.events
        if e.status == "planned" and e.demand and e.start > stream.clock
        for t in event_tours(e, problem.policy)
        if problem.start <= t.day <= problem.end
    ][:2000]


def _recommendations(live: LiveVersion, stream: Stream, n: int) -> list[float]:
    """Time recommendations for `n` random future tours (and roles) of the version."""
    rng = random.Random(1)
    tours = _future_tours(live, stream)
    out = []
    for _ in range(n):
        event, tour = rng.choice(tours)
        role = rng.choice([d.role for d in event.demand])
        t0 = time.perf_counter()
        recommend(live.ctx, event, tour, role, stream.clock, k=10)
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--year", type=int, default=2027)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--changes", type=int, default=206)
    parser.add_argument("--from", dest="start", default="2027-05-03", help="the stream's first day")
    parser.add_argument("--recommendations", type=int, default=200)
    parser.add_argument("--resolve", action="store_true", help="solve the year again, ignoring the cache")
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        help="plan only this many days from a week before --from (smoke runs)",
    )
    parser.add_argument("--skip-full-validation", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--store",
        action="store_true",
        help="send every change and re-plan through the service and store them (SQLite)",
    )
    parser.add_argument(
        "--store-dir", default="bench/results/replan-store", help="where the --store database lives"
    )
    args = parser.parse_args(argv)
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result["rows"] + [result["summary"]], indent=1, default=str))
    print(json.dumps(result["summary"], indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
