"""The job lifecycle: stage names and the job's percent, every row transition with its actor, who
may cancel, failures told apart (bad inputs and solver errors fail at once, crashes are retried),
the child's typed messages, and concurrent what-ifs that share nothing."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import msgspec
import pytest
from sqlalchemy import select, update

from api.db.engine import make_sync_engine, utcnow
from api.db.models import EventRow, Job, PlanAssignment, PlanRecord
from api.jobs import messages
from api.jobs.transitions import ErrorKind
from planner.plan import Progress
from planner.stages import PERCENT_SPANS, JobPercent, Stage
from solver import solve
from tests.api import data
from tests.api.conftest import Service
from tests.api.test_jobs import REQUEST, A, P, S, _load, _submit
from tests.solver.factory import WESTMINSTER, event, officers, problem


def test_every_stage_a_real_solve_reports_is_a_stage_with_a_span_and_the_percent_only_rises() -> None:
    reports: list[Progress] = []
    solve(problem(officers(WESTMINSTER, 12), [event("E1", constable=6)]), progress=reports.append, workers=1)
    stages = [r.stage for r in reports]
    assert stages and stages[-1] == Stage.DONE
    assert all(Stage(s) in PERCENT_SPANS for s in stages)
    percent = JobPercent()
    seen = [percent.update(r.stage, r.percent) for r in reports]
    assert seen == sorted(seen) and seen[-1] == 98.0


def test_the_old_repair_stage_no_longer_drops_the_percent() -> None:
    # Seen live: 60.8 -> 50.0 -> 90.8, because "repair" had no span and its raw figure was shown.
    percent = JobPercent()
    seen = [
        percent.update(stage, pct)
        for stage, pct in [("allocation", 100.0), ("rostering", 4.0), ("repair", 50.0), ("feedback", 12.0)]
    ]
    assert seen == sorted(seen)
    assert seen[1] < seen[2] < seen[3]


def test_a_stage_without_a_span_holds_the_percent() -> None:
    percent = JobPercent()
    percent.update("allocation", 50.0)
    assert percent.update("something-new", 90.0) == 30.0
    assert percent.update(Stage.PLAN, 10.0) == 30.0
    assert percent.update("completion", 0.0) == 60.0
    assert percent.update("allocation", 10.0) == 60.0  # a late report from an earlier stage


# --------------------------------------------------------------------------- the job row


def _job_row(service: Service, job_id: str) -> Any:
    engine = make_sync_engine(service.settings.db, pooled=False)
    with engine.connect() as conn:
        row = conn.execute(select(Job).where(Job.id == job_id)).one()
    engine.dispose()
    return row


def test_a_jobs_percent_never_falls_in_its_row_whatever_stages_arrive(service: Service) -> None:
    _load(service)
    job_id = _submit(service)
    worker = service.worker()
    try:
        claim = worker.claim()
        assert claim is not None and claim.id == job_id
        percent = JobPercent()
        shown = []
        for stage, done in [
            ("allocation", 100),
            ("rostering", 4),
            ("repair", 50),
            ("feedback", 12),
            ("x", 99),
        ]:
            assert worker.beat(claim, Progress(stage=stage, done=done, total=100), percent) == (True, False)
            shown.append(service.client.get(f"/plans/{job_id}", headers=service.h(A)).json()["percent"])
    finally:
        worker.engine.dispose()
    assert shown == sorted(shown) and shown[0] == 60.0 and shown[-1] == shown[-2] > shown[1]


def test_who_may_cancel_a_job_and_who_did(service: Service) -> None:
    _load(service)
    c = service.client
    mine, mine_id = service.new_key(S)
    other, _ = service.new_key(S)
    planner, planner_id = service.new_key(P)

    def submit(key: str) -> str:
        r = c.post("/plans", json=REQUEST, headers={"X-API-Key": key})
        assert r.status_code == 202
        return r.json()["id"]  # type: ignore[no-any-return]

    def cancel(key: str, job_id: str) -> Any:
        return c.delete(f"/plans/{job_id}", headers={"X-API-Key": key})

    # a scheduler may not cancel another client's job; the job is untouched
    first = submit(mine)
    refused = cancel(other, first)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert "submitted" in refused.json()["detail"]
    row = _job_row(service, first)
    assert (row.status, row.cancel_requested, row.cancelled_by) == ("queued", False, None)
    # ... but its own
    assert cancel(mine, first).json()["status"] == "cancelled"
    row = _job_row(service, first)
    assert (row.created_by, row.cancelled_by) == (mine_id, mine_id) and row.cancel_requested_at

    # a planner may cancel any job, and is recorded as who did
    second = submit(mine)
    assert cancel(planner, second).status_code == 202
    assert _job_row(service, second).cancelled_by == planner_id

    # a running job: the first request is the one recorded, the worker ends it as cancelled
    third = submit(mine)
    worker = service.worker()
    try:
        claim = worker.claim()
        assert claim is not None and claim.id == third
        assert cancel(planner, third).json()["cancel_requested"] is True
        assert cancel(mine, third).status_code == 202
        assert worker.beat(claim, None) == (True, True)
    finally:
        worker.engine.dispose()
    row = _job_row(service, third)
    assert (row.status, row.cancelled_by) == ("running", planner_id)


def test_a_plan_on_bad_data_fails_at_once_naming_the_event_and_the_field(service: Service) -> None:
    # Written around the import's checks (or stored before them): 2^70 cannot be carried by a plan.
    _load(service)
    engine = make_sync_engine(service.settings.db, pooled=False)
    with engine.begin() as conn:
        conn.execute(
            update(EventRow)
            .where(EventRow.external_id == "EV-0-A")
            .values(demand=f'[["constable", {2**70}]]')
        )
    engine.dispose()
    job_id = _submit(service)
    assert service.run_jobs() == ["failed"]
    assert service.run_jobs(stale_seconds=0.0) == []  # not claimed again: nothing would change
    job = service.client.get(f"/plans/{job_id}", headers=service.h(A)).json()
    assert job["attempts"] == 1 and "crash" not in job["error"]
    assert "'EV-0-A'" in job["error"] and "demand[0].count" in job["error"] and str(2**70) in job["error"]
    assert _job_row(service, job_id).error_kind == "input"


def test_a_solver_error_fails_the_job_once_and_is_not_taken_for_a_crash(service: Service) -> None:
    _load(service)
    job_id = _submit(service)
    assert service.run_jobs(solver="tests.api.fake_solvers:broken") == ["failed"]
    assert service.run_jobs(stale_seconds=0.0) == []
    row = _job_row(service, job_id)
    assert (row.status, row.attempts, row.error_kind) == ("failed", 1, "solver")
    assert "no feasible deployment" in row.error


def test_a_job_given_up_after_crashes_says_so(service: Service) -> None:
    _load(service)
    job_id = _submit(service)
    engine = make_sync_engine(service.settings.db, pooled=False)
    with engine.begin() as conn:
        conn.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status="running",
                attempts=3,
                worker_id="gone:1",
                heartbeat_at=utcnow() - dt.timedelta(hours=1),
            )
        )
    engine.dispose()
    assert service.run_jobs(max_attempts=3) == []
    row = _job_row(service, job_id)
    assert (row.status, row.error_kind) == ("failed", "crash") and "3 attempts" in row.error


def test_child_messages_are_typed_and_round_trip() -> None:
    sent = [
        messages.ProgressReport(progress=Progress(stage=Stage.BOUND, done=1, total=2, gap=0.1)),
        messages.Solved(result=b"\x01", seconds=1.5),
        messages.Cancelled(),
        messages.Failed(kind=ErrorKind.INPUT, message="event 'X': demand[0].count is -1"),
    ]
    assert [messages.decode(messages.encode(m)) for m in sent] == sent
    with pytest.raises(msgspec.ValidationError):
        messages.decode(msgspec.msgpack.encode({"type": "result", "plan": b""}))


# --------------------------------------------------------------------------- concurrent what-ifs


def test_two_concurrent_what_ifs_answer_as_each_alone(service: Service) -> None:
    _load(service)
    job_id = _submit(service)
    assert service.run_jobs() == ["succeeded"]
    url, h = f"/analysis/plans/{job_id}/what-if", service.h(P)
    bodies = [
        {"event_id": "EV-0-A", "demand": [{"role": "constable", "count": 9}]},
        {"event_id": "EV-1-B", "demand": [{"role": "serial_l2", "count": 2}]},
    ]

    def ask(body: dict[str, Any]) -> dict[str, Any]:
        r = service.client.post(url, json=body, headers=h)
        assert r.status_code == 200, r.text
        out = r.json()
        out.pop("seconds")
        return out  # type: ignore[no-any-return]

    alone = [ask(b) for b in bodies]
    assert alone[0]["after"] != alone[1]["after"]  # two different problems, so sharing would show
    start = threading.Barrier(len(bodies))
    together: list[dict[str, Any] | None] = [None] * len(bodies)

    def run(i: int) -> None:
        start.wait()
        together[i] = ask(bodies[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert together == alone


# --------------------------------------------------------------------------- storing a result


def test_a_plan_is_stored_all_at_once_or_not_at_all(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite once committed the plans row on its own (a savepoint outside a transaction), so a
    # plan looked stored, and was analysed, before its rows were written.
    from api.jobs import store

    _load(service)
    job_id = _submit(service)

    def fail_midway(conn: Any, job: str, plan: Any, evaluation: Any) -> None:
        store.copy_rows(conn, PlanAssignment.__table__, store.ASSIGNMENT_COLUMNS, [])
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(store, "insert_plan_rows", fail_midway)
    assert service.run_jobs() == ["failed"]
    engine = make_sync_engine(service.settings.db, pooled=False)
    with engine.connect() as conn:
        assert conn.execute(select(PlanRecord.job_id).where(PlanRecord.job_id == job_id)).first() is None
    engine.dispose()
    assert service.client.get(f"/plans/{job_id}/summary", headers=service.h(A)).status_code == 409
    row = _job_row(service, job_id)
    assert row.status == "failed" and "could not be stored" in row.message and "disk is full" in row.error


def test_gentle_decoding_gives_what_one_decode_gives() -> None:
    from api.jobs.analysis import PlanAnalysis, analyse, decode_gently
    from planner.domain import PlanningProblem
    from planner.plan import Plan

    p = problem(officers(WESTMINSTER, 12), [event("E1", constable=6), event("E2", constable=20)])
    plan = solve(p, workers=1)
    analysis = analyse(p, plan)
    assert plan.assignments and plan.shortfalls and analysis.explanations
    for value, kind in ((p, PlanningProblem), (plan, Plan), (analysis, PlanAnalysis)):
        data = msgspec.msgpack.encode(value)
        assert decode_gently(data, kind) == msgspec.msgpack.decode(data, type=kind)


def test_the_api_reads_the_analysis_the_job_stored_instead_of_computing_it(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.features.analysis import services as analysis

    _load(service)
    job_id = _submit(service)
    assert service.run_jobs() == ["succeeded"]
    engine = make_sync_engine(service.settings.db, pooled=False)
    with engine.connect() as conn:
        assert conn.execute(select(PlanRecord.analysis).where(PlanRecord.job_id == job_id)).scalar_one()
    engine.dispose()

    def no_analysis_here(*_: Any) -> None:
        raise AssertionError("the API process analysed a plan the job had analysed")

    monkeypatch.setattr(analysis, "analyse", no_analysis_here)
    analysis.CACHE.clear()
    r = service.client.get(f"/analysis/plans/{job_id}/overview", headers=service.h(A))
    assert r.status_code == 200 and r.json()["summary"]["events"] == 6


def test_a_job_of_a_kind_the_worker_does_not_run_fails_saying_so(service: Service) -> None:
    from api.jobs import transitions

    _load(service)
    engine = make_sync_engine(service.settings.db, pooled=False)
    with engine.begin() as conn:
        conn.execute(
            transitions.enqueue("j-new-kind", "replan", data.DAY, data.DAY, None, "{}", "some-key", utcnow())
        )
    engine.dispose()
    assert service.run_jobs() == ["failed"]
    row = _job_row(service, "j-new-kind")
    assert (row.status, row.error_kind, row.attempts) == ("failed", "input", 1) and "'replan'" in row.error
