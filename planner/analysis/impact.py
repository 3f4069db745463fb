"""Investigation impact: how a plan's abstraction slows the allocation of crimes to investigators.

The model is a daily queue per borough (and, pooled, per BCU):

* intake: recorded crime per year (``Borough.yearly_crime``, the latest full year of real data,
  overridable per borough) spread evenly over the days of a year, times the share of crimes that
  need an investigator;
* capacity: investigators retained on core duty that day times the new crimes one investigator can
  take on in a day;
* backlog: ``B[d] = max(0, B[d-1] + intake[d] - capacity[d])``, starting from ``initial_backlog_days``
  of intake;
* delay: ``B[d] / normal capacity`` - the days a crime reported on day d waits to be allocated at
  the borough's normal (no events) daily capacity. Using the same divisor for the plan and for
  "no abstraction" makes the delay a like-for-like measure of the queue the plan builds up.

The same projection is made with the plan and with no officers abstracted (every rostered
investigator retained), so the difference is what event policing costs investigation.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from planner.domain import Organisation, PlanningProblem, Record, Struct
from planner.facts import duty_table, plan_facts
from planner.plan import Plan
from planner.rules import floor_retained

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DAYS_PER_YEAR = 365.25
CAP = 1e6  # days: JSON has no infinity; a borough with no investigators reports this delay


class ImpactSettings(Record, frozen=True):
    """Assumptions of the projection; every figure is the analyst's to change."""

    share_needing_investigator: float = 0.35  # of recorded crimes, those allocated to an investigator
    crimes_per_investigator_day: float = 0.45  # new crimes one on-duty investigator takes on per day
    delay_threshold_days: float = 3.0  # name (day, borough) pairs the plan pushes past this delay
    yearly_crime: dict[str, float] = {}  # borough code -> recorded crimes a year (overrides real data)
    initial_backlog_days: float = 0.0  # backlog on the first day, in days of intake


class InvestigatorDays(Struct):
    """Investigators per borough (rows, in `boroughs` order) and day (columns from `first`)."""

    first: dt.date
    boroughs: list[str]
    on_duty: list[list[int]]
    abstracted: list[list[int]]
    floor: list[list[int]]

    @property
    def days(self) -> list[dt.date]:
        n = len(self.on_duty[0]) if self.on_duty else 0
        return [self.first + dt.timedelta(days=i) for i in range(n)]


class Series(Struct):
    """One borough's or BCU's projection, day by day (aligned with `Impact.days`)."""

    code: str
    name: str
    intake_per_day: float
    normal_capacity: float  # crimes a day with every rostered investigator retained (mean)
    investigators_on_duty: list[int]
    investigators_abstracted: list[int]
    investigators_retained: list[int]
    investigation_floor: list[int]
    backlog_plan: list[float]
    backlog_baseline: list[float]
    delay_plan: list[float]  # days
    delay_baseline: list[float]
    worst_delay_plan: float
    worst_delay_baseline: float
    mean_delay_plan: float
    mean_delay_baseline: float
    worst_added_delay: float  # max over days of (plan delay - no-abstraction delay)
    mean_added_delay: float


class Breach(Record, frozen=True):
    """A day on which the plan pushes a borough's allocation delay past the threshold."""

    day: dt.date
    borough: str
    name: str
    delay_plan: float
    delay_baseline: float
    investigators_abstracted: int


class Impact(Struct):
    settings: ImpactSettings
    days: list[dt.date]
    boroughs: list[Series]
    bcus: list[Series]
    breaches: list[Breach]
    worst_delay: float  # worst plan delay over boroughs and days
    mean_delay: float  # mean over boroughs of their mean plan delay
    # What the plan adds to the delay there would be with no abstraction: a borough whose
    # investigators cannot keep up even without events (the demo's Westminster) dominates
    # worst_delay whatever the plan does, so the frontier also reports these.
    worst_added_delay: float
    mean_added_delay: float


# --------------------------------------------------------------------------- inputs


def investigator_days(problem: PlanningProblem, plan: Plan) -> InvestigatorDays:
    """Rostered and abstracted investigators per borough and day of the problem's horizon."""
    table = duty_table(plan_facts(problem, plan))
    start, days = table.col(problem.start), (problem.end - problem.start).days + 1
    policy = problem.policy
    boroughs = [b.code for b in problem.organisation.boroughs]
    on_duty, abstracted, floor = [], [], []
    for code in boroughs:
        row = table.rows[(code, "investigation")]
        on = table.on_duty[row, start : start + days]
        on_duty.append([int(x) for x in on])
        abstracted.append([int(x) for x in table.abstracted[row, start : start + days]])
        share = policy.floors_for(code).investigation
        floor.append([floor_retained(int(x), share) for x in on])
    return InvestigatorDays(
        first=problem.start, boroughs=boroughs, on_duty=on_duty, abstracted=abstracted, floor=floor
    )


def daily_intake(organisation: Organisation, settings: ImpactSettings) -> dict[str, float]:
    """Crimes a day needing an investigator, per borough."""
    out = {}
    for b in organisation.boroughs:
        yearly = settings.yearly_crime.get(b.code, float(b.yearly_crime))
        out[b.code] = yearly / DAYS_PER_YEAR * settings.share_needing_investigator
    return out


# --------------------------------------------------------------------------- the queue


def backlog(intake: float, capacity: FloatArray, initial: float = 0.0) -> FloatArray:
    """B[d] = max(0, B[d-1] + intake - capacity[d]), B[-1] = initial."""
    out = np.empty(len(capacity), dtype=np.float64)
    level = initial
    for d, cap in enumerate(capacity):
        level = max(0.0, level + intake - float(cap))
        out[d] = level
    return out


def delay(queue: FloatArray, normal_capacity: float) -> FloatArray:
    """Days a newly reported crime waits: the queue ahead of it at the normal daily capacity."""
    if normal_capacity <= 0:
        return np.where(queue > 0, np.inf, 0.0)
    return queue / normal_capacity


def _series(
    code: str,
    name: str,
    intake: float,
    on: IntArray,
    abstracted: IntArray,
    floor: IntArray,
    settings: ImpactSettings,
) -> Series:
    rate = settings.crimes_per_investigator_day
    base_capacity = on.astype(np.float64) * rate
    plan_capacity = (on - abstracted).astype(np.float64) * rate
    normal = float(base_capacity.mean()) if len(base_capacity) else 0.0
    initial = settings.initial_backlog_days * intake
    b_plan = backlog(intake, plan_capacity, initial)
    b_base = backlog(intake, base_capacity, initial)
    # capped so that a borough with no investigators (infinite delay either way) adds nothing
    d_plan, d_base = np.minimum(delay(b_plan, normal), CAP), np.minimum(delay(b_base, normal), CAP)
    return Series(
        code=code,
        name=name,
        intake_per_day=round(intake, 3),
        normal_capacity=round(normal, 3),
        investigators_on_duty=[int(x) for x in on],
        investigators_abstracted=[int(x) for x in abstracted],
        investigators_retained=[int(x) for x in on - abstracted],
        investigation_floor=[int(x) for x in floor],
        backlog_plan=_rounded(b_plan),
        backlog_baseline=_rounded(b_base),
        delay_plan=_rounded(d_plan),
        delay_baseline=_rounded(d_base),
        worst_delay_plan=_finite(d_plan.max()) if len(d_plan) else 0.0,
        worst_delay_baseline=_finite(d_base.max()) if len(d_base) else 0.0,
        mean_delay_plan=_finite(d_plan.mean()) if len(d_plan) else 0.0,
        mean_delay_baseline=_finite(d_base.mean()) if len(d_base) else 0.0,
        worst_added_delay=_finite((d_plan - d_base).max()) if len(d_plan) else 0.0,
        mean_added_delay=_finite((d_plan - d_base).mean()) if len(d_plan) else 0.0,
    )


def _finite(x: float) -> float:
    return round(float(min(x, CAP)), 3)


def _rounded(values: FloatArray) -> list[float]:
    return [round(float(v), 3) for v in np.minimum(values, CAP)]


def project(organisation: Organisation, inv: InvestigatorDays, settings: ImpactSettings) -> Impact:
    """Backlog and delay per borough and BCU, with the plan and with no abstraction."""
    intake = daily_intake(organisation, settings)
    names = {b.code: b.name for b in organisation.boroughs}
    on = np.asarray(inv.on_duty, dtype=np.int64).reshape(len(inv.boroughs), -1)
    ab = np.asarray(inv.abstracted, dtype=np.int64).reshape(on.shape)
    fl = np.asarray(inv.floor, dtype=np.int64).reshape(on.shape)
    row = {code: i for i, code in enumerate(inv.boroughs)}
    boroughs = [
        _series(code, names.get(code, code), intake.get(code, 0.0), on[i], ab[i], fl[i], settings)
        for code, i in row.items()
    ]
    bcus = []
    for bcu in organisation.bcus:
        rows = [row[c] for c in bcu.boroughs if c in row]
        bcus.append(
            _series(
                bcu.code,
                bcu.name,
                sum(intake.get(c, 0.0) for c in bcu.boroughs),
                on[rows].sum(axis=0),
                ab[rows].sum(axis=0),
                fl[rows].sum(axis=0),
                settings,
            )
        )
    days = inv.days
    # the force-wide figures leave out boroughs with no investigators rostered at all (a data set
    # of a few boroughs): their delay is unbounded and says nothing about the plan
    modelled = [s for s in boroughs if s.normal_capacity > 0]
    breaches = _breaches(boroughs, days, settings.delay_threshold_days)
    return Impact(
        settings=settings,
        days=days,
        boroughs=boroughs,
        bcus=bcus,
        breaches=breaches,
        worst_delay=max((s.worst_delay_plan for s in modelled), default=0.0),
        mean_delay=_mean([s.mean_delay_plan for s in modelled]),
        worst_added_delay=max((s.worst_added_delay for s in modelled), default=0.0),
        mean_added_delay=_mean([s.mean_added_delay for s in modelled]),
    )


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 3) if values else 0.0


def _breaches(series: list[Series], days: list[dt.date], threshold: float) -> list[Breach]:
    """Days where the plan's delay is past the threshold and the no-abstraction delay is not."""
    out = []
    for s in series:
        for d, (p, b) in enumerate(zip(s.delay_plan, s.delay_baseline, strict=True)):
            if p > threshold >= b:
                out.append(
                    Breach(
                        day=days[d],
                        borough=s.code,
                        name=s.name,
                        delay_plan=p,
                        delay_baseline=b,
                        investigators_abstracted=s.investigators_abstracted[d],
                    )
                )
    out.sort(key=lambda b: (b.day, -b.delay_plan))
    return out


def investigation_impact(
    problem: PlanningProblem, plan: Plan, settings: ImpactSettings | None = None
) -> Impact:
    """The whole projection for a plan of a problem."""
    return project(problem.organisation, investigator_days(problem, plan), settings or ImpactSettings())
