"""The stage-1 variables container: every decision of one day's allocation, keyed by named tuples
(cheap to hash: models have tens of thousands of keys) so that constraint families read like
the maths."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from solver.linear import LinearModel

ON_DUTY, REST_DAY = "on", "rest"


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
    max_share: int | None = None  # highest borough abstraction share today, per mille
    share_above: int | None = None  # how far it exceeds the fairness threshold
