"""The job lifecycle: stage names and the job's percent."""

from __future__ import annotations

from planner.plan import Progress
from planner.stages import PERCENT_SPANS, JobPercent, Stage
from solver import solve
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
