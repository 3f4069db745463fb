"""Investigation impact: the backlog queue and its delay, hand-computed on tiny inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from planner.analysis.impact import (
    DAYS_PER_YEAR,
    ImpactSettings,
    InvestigatorDays,
    backlog,
    daily_intake,
    investigation_impact,
    project,
)
from planner.domain import BCU, Borough, Organisation
from solver import solve
from tests.solver.factory import WESTMINSTER, event, officers, problem

A, B = "E09000001X", "E09000002X"
DAY = dt.date(2027, 3, 1)


def org(crime_a: int = 3653, crime_b: int = 0) -> Organisation:
    def borough(code: str, crime: int) -> Borough:
        return Borough(
            code=code, name=code, bcu="ZZ", inner=True, population=1, lat=0, lon=0, yearly_crime=crime
        )

    return Organisation(
        boroughs=(borough(A, crime_a), borough(B, crime_b)),
        bcus=(BCU(code="ZZ", name="Test BCU", boroughs=(A, B)),),
        central_units=(),
        travel_minutes={A: {A: 0, B: 10}, B: {A: 10, B: 0}},
    )


def test_backlog_is_a_queue_that_never_goes_negative() -> None:
    # intake 10 a day; capacity 12, 4, 4, 20 -> backlog 0, 6, 12, 2
    got = backlog(10.0, np.array([12.0, 4.0, 4.0, 20.0]))
    assert got.tolist() == [0.0, 6.0, 12.0, 2.0]
    assert backlog(10.0, np.array([0.0]), initial=5.0).tolist() == [15.0]


def test_intake_scales_real_yearly_crime_and_takes_overrides() -> None:
    settings = ImpactSettings(share_needing_investigator=0.5, yearly_crime={B: DAYS_PER_YEAR * 4})
    intake = daily_intake(org(crime_a=int(DAYS_PER_YEAR * 100)), settings)
    assert intake[A] == pytest.approx(50.0, abs=0.01)
    assert intake[B] == pytest.approx(2.0)


def test_delay_with_the_plan_and_without_abstraction() -> None:
    # Borough A: 10 crimes a day need an investigator; 20 investigators on duty take 0.5 each.
    # Normal capacity 10 a day: no backlog without events. The plan takes 10 investigators on
    # days 2 and 3: capacity 5, backlog 5 then 10, delay 0.5 then 1.0 day; day 4 back to 0 delay
    # only if capacity allows - it does not (capacity 10 = intake), so it stays at 10.
    settings = ImpactSettings(
        share_needing_investigator=1.0,
        crimes_per_investigator_day=0.5,
        yearly_crime={A: 10 * DAYS_PER_YEAR, B: 0.0},
        delay_threshold_days=0.75,
    )
    inv = InvestigatorDays(
        first=DAY,
        boroughs=[A, B],
        on_duty=[[20, 20, 20, 20], [0, 0, 0, 0]],
        abstracted=[[0, 10, 10, 0], [0, 0, 0, 0]],
        floor=[[17, 17, 17, 17], [0, 0, 0, 0]],
    )
    impact = project(org(), inv, settings)
    a = impact.boroughs[0]
    assert a.backlog_baseline == [0.0, 0.0, 0.0, 0.0]
    assert a.backlog_plan == [0.0, 5.0, 10.0, 10.0]
    assert a.delay_plan == [0.0, 0.5, 1.0, 1.0]
    assert a.worst_delay_plan == 1.0
    assert a.investigators_retained == [20, 10, 10, 20]
    # only the days past 0.75 with the plan (and not without it) are named
    assert [(b.day, b.borough) for b in impact.breaches] == [
        (DAY + dt.timedelta(days=2), A),
        (DAY + dt.timedelta(days=3), A),
    ]
    # the BCU pools its boroughs: same figures here as B has no crime and no investigators
    assert impact.bcus[0].delay_plan == [0.0, 0.5, 1.0, 1.0]


def test_impact_from_a_solved_plan_counts_abstracted_investigators() -> None:
    # Westminster's only spare officers are investigators; a 4-officer event takes 4 of 20
    # (floor 50%: 10 may go). The projection sees 4 fewer investigators that day.
    from planner.domain import Floors, Policy

    crew = officers(WESTMINSTER, 20, role="investigation", skills=["DETECTIVE"])
    p = problem(crew, [event("E1", constable=4)], policy=Policy(floors=Floors(investigation=0.5)))
    plan = solve(p, workers=1)
    impact = investigation_impact(p, plan)
    west = next(s for s in impact.boroughs if s.code == WESTMINSTER)
    assert west.investigators_on_duty == [20]
    assert west.investigators_abstracted == [4]
    assert west.investigation_floor == [10]


def test_added_delay_separates_the_plan_from_a_borough_that_cannot_keep_up() -> None:
    # Intake 10 a day, capacity 5 without events: the backlog grows 5 a day regardless (delay 1, 2
    # with capacity 5 as the divisor); the plan takes 2 investigators (1 crime a day) on day 2.
    settings = ImpactSettings(
        share_needing_investigator=1.0, crimes_per_investigator_day=0.5, yearly_crime={A: 10 * DAYS_PER_YEAR}
    )
    inv = InvestigatorDays(
        first=DAY,
        boroughs=[A, B],
        on_duty=[[10, 10], [0, 0]],
        abstracted=[[0, 2], [0, 0]],
        floor=[[9, 9], [0, 0]],
    )
    a = project(org(), inv, settings).boroughs[0]
    assert a.backlog_baseline == [5.0, 10.0]
    assert a.backlog_plan == [5.0, 11.0]
    assert a.delay_plan == [1.0, 2.2]
    assert a.worst_added_delay == pytest.approx(0.2)
    assert a.mean_added_delay == pytest.approx(0.1)


def test_a_borough_without_investigators_reports_a_capped_delay_and_adds_nothing() -> None:
    settings = ImpactSettings(share_needing_investigator=1.0, yearly_crime={A: 10 * DAYS_PER_YEAR})
    inv = InvestigatorDays(
        first=DAY, boroughs=[A, B], on_duty=[[0], [0]], abstracted=[[0], [0]], floor=[[0], [0]]
    )
    impact = project(org(), inv, settings)
    a = impact.boroughs[0]
    assert a.delay_plan == [1e6] and a.worst_added_delay == 0.0 and a.mean_added_delay == 0.0
    assert impact.mean_added_delay == 0.0  # finite: it is stored as JSON


def test_force_wide_delays_leave_out_boroughs_without_investigators() -> None:
    settings = ImpactSettings(
        share_needing_investigator=1.0,
        crimes_per_investigator_day=0.5,
        yearly_crime={A: 10 * DAYS_PER_YEAR, B: 365.25},
    )
    inv = InvestigatorDays(
        first=DAY,
        boroughs=[A, B],
        on_duty=[[20, 20], [0, 0]],
        abstracted=[[0, 10], [0, 0]],
        floor=[[0, 0], [0, 0]],
    )
    impact = project(org(), inv, settings)
    assert impact.boroughs[1].worst_delay_plan == 1e6  # B has crime and nobody to allocate it to
    assert impact.worst_delay == 0.5 and impact.mean_delay == 0.25  # A alone: delays 0, 0.5
