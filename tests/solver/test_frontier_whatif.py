"""Frontier points and what-if re-plans on tiny instances where the floor is what decides coverage."""

from __future__ import annotations

import datetime as dt

import pytest
from msgspec.structs import replace

from planner.domain import Floors, Policy, RoleDemand
from solver import solve
from solver.frontier import allocation_point, frontier, frontier_plan, points_of, with_investigation_floor
from solver.whatif import Change, apply_change, solve_days, what_if
from tests.solver.factory import DAY, WESTMINSTER, event, officers, problem


def investigators_only() -> list:  # type: ignore[type-arg]
    # Westminster's only officers: 20 investigators (5x2, all on duty on DAY, a Wednesday).
    return officers(WESTMINSTER, 20, role="investigation", skills=["DETECTIVE"])


def test_raising_the_floor_trades_coverage_for_investigation() -> None:
    p = problem(investigators_only(), [event("E1", constable=8)])
    loose = allocation_point(replace(p, policy=with_investigation_floor(p.policy, 0.5)))
    tight = allocation_point(replace(p, policy=with_investigation_floor(p.policy, 0.9)))
    # 50%: 10 may go, all 8 covered; 90%: only 2 may go
    assert (loose.covered_officers, tight.covered_officers) == (8, 2)
    assert loose.coverage_share == 1.0
    assert tight.coverage_share == pytest.approx(0.25)


def test_frontier_sweeps_at_least_six_points_and_survives_the_job_store() -> None:
    p = problem(investigators_only(), [event("E1", constable=8)])
    result = frontier(p, processes=1)
    assert [pt.investigation_floor for pt in result.points] == [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    covered = [pt.covered_officers for pt in result.points]
    assert covered == [8, 8, 6, 4, 2, 0]  # 20 on duty: 10, 8, 6, 4, 2, 0 may go
    assert points_of(frontier_plan(result).stages) == result.points


def test_frontier_points_in_parallel_processes_match_in_process_ones() -> None:
    p = problem(investigators_only(), [event("E1", constable=8)])
    serial = frontier(p, (0.5, 0.9), processes=1)
    parallel = frontier(p, (0.5, 0.9), processes=2)
    assert parallel.processes == 2
    assert [x.covered_officers for x in parallel.points] == [x.covered_officers for x in serial.points]


def test_what_if_more_demand_re_plans_only_that_events_days() -> None:
    later = DAY + dt.timedelta(days=1)
    p = problem(
        officers(WESTMINSTER, 20),
        [event("E1", constable=2), event("E2", day=later, constable=3)],
        end=later,
    )
    plan = solve(p, workers=1)
    result = what_if(p, plan, Change(event_id="E2", demand=(RoleDemand(role="constable", count=6),)))
    assert result.days == [later]
    assert result.before.covered_officers == 3
    assert result.after.covered_officers == 6
    deltas = {d.name: d.delta for d in result.comparison.summary}
    assert deltas["demand_officers"] == 3


def test_what_if_a_higher_floor_for_one_borough_shows_the_shortfall() -> None:
    p = problem(
        investigators_only(), [event("E1", constable=8)], policy=Policy(floors=Floors(investigation=0.5))
    )
    plan = solve(p, workers=1)
    result = what_if(p, plan, Change(borough=WESTMINSTER, investigation_floor=0.9))
    assert result.days == [DAY]
    assert (result.before.covered_officers, result.after.covered_officers) == (8, 2)


def test_changes_are_validated() -> None:
    p = problem(investigators_only(), [event("E1", constable=8)])
    with pytest.raises(ValueError):
        apply_change(p, Change())
    with pytest.raises(ValueError):
        apply_change(p, Change(borough=WESTMINSTER, investigation_floor=1.5))
    with pytest.raises(ValueError):
        apply_change(p, Change(event_id="E1", demand=(RoleDemand(role="nope", count=1),)))
    assert solve_days(p, [DAY]).assignments


def test_a_cancelled_parallel_frontier_stops_promptly() -> None:
    import time

    from solver.pipeline import SolveCancelled

    p = problem(investigators_only(), [event("E1", constable=8)])
    started = time.monotonic()
    with pytest.raises(SolveCancelled):
        frontier(p, processes=2, cancel=lambda: True)
    assert time.monotonic() - started < 5.0


def test_named_frontier_points_agree_with_allocation_ones_on_a_simple_instance() -> None:
    p = problem(investigators_only(), [event("E1", constable=8)])
    named = frontier(p, (0.5, 0.8), detail="named", processes=1)
    quick = frontier(p, (0.5, 0.8), processes=1)
    assert [x.detail for x in named.points] == ["named", "named"]
    assert [x.covered_officers for x in named.points] == [x.covered_officers for x in quick.points] == [8, 4]
    with pytest.raises(ValueError):
        frontier(p, detail="guess")


def test_the_day_sweep_reuses_looser_plans_only_where_they_keep_the_tighter_floor() -> None:
    # Three days: a small event (fits every floor), a large one (needs re-solving at tight floors)
    # and a medium one. The sweep must give exactly what independent solves give.
    from solver.frontier import allocation_points

    days = [DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)]
    crew = investigators_only() + officers(WESTMINSTER, 3)
    events = [
        event("S", day=days[0], constable=1),
        event("L", day=days[1], constable=12),
        event("M", day=days[2], constable=6),
    ]
    p = problem(crew, events, end=days[-1])
    shares = (0.5, 0.7, 0.9, 1.0)
    swept = allocation_points(p, shares)
    for share, point in zip(shares, swept, strict=True):
        alone = allocation_point(replace(p, policy=with_investigation_floor(p.policy, share)))
        got = (
            point.covered_officers,
            point.cancelled_rest_days,
            point.uncovered_critical,
            point.worst_added_delay,
        )
        want = (
            alone.covered_officers,
            alone.cancelled_rest_days,
            alone.uncovered_critical,
            alone.worst_added_delay,
        )
        assert got == want, share
    assert swept[0].solved_days == 3  # the loosest share solves every day
    assert swept[1].solved_days < 3  # the small event's day is reused at 70%
    parallel = allocation_points(p, shares, processes=2)
    assert [x.covered_officers for x in parallel] == [x.covered_officers for x in swept]
