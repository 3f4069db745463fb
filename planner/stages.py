"""Stage names: one enum for what a solve reports (Progress.stage, StageStats.name) and what a job
row shows, and the share of a whole job each progress stage covers.

The solver reports its stages in order (allocation, completion, bound, done) and the worker adds its
own around them (starting, storing). `JobPercent` turns each report into the job's overall percent
and never lets it fall, whatever stage arrives: an unknown or out-of-order stage holds the percent
where it is (the old table had no "repair" key, so a job showed 60.8 -> 50.0 -> 90.8)."""

from __future__ import annotations

import enum


class Stage(enum.StrEnum):
    # the job row before and around the solve
    QUEUED = "queued"
    STARTING = "starting"
    STORING = "storing"
    # progress a solve reports, in order
    ALLOCATION = "allocation"  # blocks of days: allocation and named rostering together
    COMPLETION = "completion"  # every shortfall re-checked over all sources
    BOUND = "bound"  # the delivered plan's lower bound
    DONE = "done"  # the plan is ready (also a stored job's last stage)
    # stage statistics that are not progress reports
    PLAN = "plan"  # the delivered plan's quality (planner.plan.PlanQuality.stage)
    GREEDY = "greedy"
    FRONTIER = "frontier"  # one floor share's point
    FRONTIER_TOTAL = "frontier-total"
    # earlier solvers' stages: still in stored plans' statistics, and possibly from an old worker
    ROSTERING = "rostering"
    REPAIR = "repair"
    FEEDBACK = "feedback"
    # a job that ended without a plan shows its status as its stage
    FAILED = "failed"
    CANCELLED = "cancelled"


# Share of the whole job (percent, from-to) each progress stage covers. The current solver's stages
# follow one another; the earlier solvers' stages sat between allocation and the end.
PERCENT_SPANS: dict[Stage, tuple[float, float]] = {
    Stage.QUEUED: (0.0, 0.0),
    Stage.STARTING: (0.0, 0.0),
    Stage.ALLOCATION: (0.0, 60.0),
    Stage.ROSTERING: (60.0, 80.0),
    Stage.REPAIR: (80.0, 90.0),
    Stage.FEEDBACK: (90.0, 97.0),
    Stage.COMPLETION: (60.0, 80.0),
    Stage.BOUND: (80.0, 97.0),
    Stage.DONE: (97.0, 98.0),
    Stage.STORING: (98.0, 99.0),
}


def stage_percent(stage: str, percent: float) -> float | None:
    """The overall percent of a report `percent` of the way through `stage`; None for a stage
    without a span (statistics names, or a name this table does not know)."""
    try:
        lo, hi = PERCENT_SPANS[Stage(stage)]
    except (ValueError, KeyError):
        return None
    return round(lo + (hi - lo) * min(100.0, max(0.0, percent)) / 100.0, 2)


class JobPercent:
    """The overall percent of one attempt at a job: rises with each report and never falls."""

    def __init__(self, start: float = 0.0) -> None:
        self.value = start

    def update(self, stage: str, percent: float) -> float:
        computed = stage_percent(stage, percent)
        if computed is not None and computed > self.value:
            self.value = computed
        return self.value
