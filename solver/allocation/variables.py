"""The stage-1 variables container: every decision of one day's allocation, keyed by named tuples
(cheap to hash: models have tens of thousands of keys) so that constraint families read like
the maths."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from solver.linear import LinearModel

ON_DUTY, REST_DAY = "on", "rest"
# Officers whose published duty on the day before (or after) leaves too little rest for a tour,
# who can work it if that duty is replaced by an event tour that day (the "Duty release" family).
RELEASED_BEFORE, RELEASED_AFTER = "before", "after"
RELEASE_SIDES = (RELEASED_BEFORE, RELEASED_AFTER)
STATUSES = (
    ON_DUTY,
    REST_DAY,
    f"{ON_DUTY}<{RELEASED_BEFORE}",
    f"{REST_DAY}<{RELEASED_BEFORE}",
    f"{ON_DUTY}<{RELEASED_AFTER}",
    f"{REST_DAY}<{RELEASED_AFTER}",
)


_ON_DUTY = {status: status.split("<")[0] == ON_DUTY for status in STATUSES}
_SIDE = {status: (status.split("<")[1] if "<" in status else None) for status in STATUSES}


def on_duty(status: str) -> bool:
    """Whether officers of this post status are on duty today (so count against floors)."""
    return _ON_DUTY[status]


def release_side(status: str) -> str | None:
    """The day whose duty must be replaced for this post status, if any."""
    return _SIDE[status]


class UnitKey(NamedTuple):
    tour: int  # index into DayInput.tours
    role: str
    source: str


class PostKey(NamedTuple):
    """Officers of one class (on duty or from a rest day) filling one slot of a unit."""

    unit: UnitKey
    slot: int
    cls: int  # index into DayInput.classes
    status: str


@dataclass
class AllocationVariables:
    model: LinearModel = field(default_factory=LinearModel)
    units: dict[UnitKey, int] = field(default_factory=dict)  # units sent by a source
    shortfall: dict[tuple[int, str], int] = field(default_factory=dict)  # units not covered
    posts: dict[PostKey, int] = field(default_factory=dict)
    # Row of each keyed constraint (e.g. ("supply", cls, status, window)), for pricing columns
    # that are not in the model against its duals (solver/bound.py).
    rows: dict[tuple[object, ...], int] = field(default_factory=dict)
    max_share: int | None = None  # highest borough abstraction share today, per mille
    share_above: int | None = None  # how far it exceeds the fairness threshold
