"""The stage-1 variables container: every decision of one day's allocation, with query methods
so that constraint families read like the maths."""

from __future__ import annotations

from dataclasses import dataclass, field

from solver.linear import LinearModel

ON_DUTY, REST_DAY = "on", "rest"


@dataclass(frozen=True)
class UnitKey:
    tour: int  # index into DayInput.tours
    role: str
    source: str


@dataclass(frozen=True)
class PostKey:
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
    max_share: int | None = None  # highest borough abstraction share today

    def units_for(self, tour: int, role: str) -> list[int]:
        return [v for k, v in self.units.items() if k.tour == tour and k.role == role]

    def posts_of_unit_slot(self, unit: UnitKey, slot: int) -> list[int]:
        return [v for k, v in self.posts.items() if k.unit == unit and k.slot == slot]
