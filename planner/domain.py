"""Domain types: organisation, officers, events, policy and the planning problem.

Everything here is a plain, serialisable msgspec Struct so that a problem (or a slice of one)
can be sent to another process or machine unchanged. No framework imports.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

Rank = Literal["PC", "PS", "INSP", "CI", "SUPT"]
RANKS: tuple[Rank, ...] = ("PC", "PS", "INSP", "CI", "SUPT")

DutyRole = Literal["response", "neighbourhood", "investigation", "central"]
DUTY_ROLES: tuple[DutyRole, ...] = ("response", "neighbourhood", "investigation", "central")

SKILLS: tuple[str, ...] = (
    "PO_L1",  # full-time public order (TSG)
    "PO_L2",  # borough public order, trained about twice a year
    "DRIVER",  # public-order carrier driver
    "MEDIC",  # public-order medic
    "PLO",  # protest liaison
    "POLSA",  # police search adviser
    "MOUNTED",
    "DOG",
    "BRONZE",
    "SILVER",
    "GOLD",
    "DETECTIVE",  # accredited investigator
)

EventKind = Literal[
    "demonstration", "march", "football", "concert", "ceremonial", "sport", "festival", "other"
]
EVENT_KINDS: tuple[str, ...] = (
    "demonstration",
    "march",
    "football",
    "concert",
    "ceremonial",
    "sport",
    "festival",
    "other",
)
FootballGrade = Literal["police-free", "A", "B", "C", "C-IR"]
Priority = Literal["critical", "high", "normal", "low"]
PRIORITIES: tuple[Priority, ...] = ("critical", "high", "normal", "low")
EventStatus = Literal["planned", "cancelled"]


class Struct(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for domain records: keyword-only and strict about unknown fields."""


class Record(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Base for immutable domain records (hashable; safe to share between plans and processes)."""


# --------------------------------------------------------------------------- organisation


class Borough(Record, frozen=True):
    code: str  # ONS code, e.g. E09000033
    name: str
    bcu: str  # two-letter BCU code
    inner: bool
    population: int
    lat: float
    lon: float
    yearly_crime: int  # recorded offences, latest full year


class BCU(Record, frozen=True):
    code: str
    name: str
    boroughs: tuple[str, ...]


class CentralUnit(Record, frozen=True):
    """A unit outside the boroughs that also supplies events (TSG, Mounted, Dogs...)."""

    code: str
    name: str
    base_borough: str  # where its officers travel from


class Organisation(Record, frozen=True):
    boroughs: tuple[Borough, ...]
    bcus: tuple[BCU, ...]
    central_units: tuple[CentralUnit, ...]
    # travel_minutes[from_code][to_code]: estimated inter-peak drive minutes between boroughs
    travel_minutes: dict[str, dict[str, float]]

    def unit_codes(self) -> list[str]:
        """Every source of officers: boroughs first, then central units."""
        return [b.code for b in self.boroughs] + [u.code for u in self.central_units]

    def base_borough(self, unit: str) -> str:
        for u in self.central_units:
            if u.code == unit:
                return u.base_borough
        return unit

    def travel(self, unit: str, borough: str) -> float:
        return self.travel_minutes[self.base_borough(unit)][borough]

    def borough_bcu(self) -> dict[str, str]:
        return {b.code: b.bcu for b in self.boroughs}


# --------------------------------------------------------------------------- officers


class DateRange(Record, frozen=True):
    start: dt.date
    end: dt.date  # inclusive

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class Officer(Record, frozen=True):
    service_number: str
    unit: str  # borough ONS code or central unit code
    rank: Rank
    duty_role: DutyRole
    skills: tuple[str, ...] = ()
    shift_pattern: str = "5x2"  # key into Policy.shift_patterns
    pattern_offset: int = 0  # where in the pattern cycle the officer is on Policy.pattern_epoch
    leave: tuple[DateRange, ...] = ()
    name: str = ""  # personal data: hidden from analysts


# --------------------------------------------------------------------------- events


class RoleDemand(Record, frozen=True):
    role: str  # key into Policy.roles, e.g. "serial_l2", "bronze", "constable"
    count: int  # units of that role per tour (serials, PSUs or single officers)


class Event(Record, frozen=True):
    external_id: str
    name: str
    kind: EventKind
    borough: str  # ONS code
    start: dt.datetime  # local London time, naive
    end: dt.datetime
    priority: Priority = "normal"
    demand: tuple[RoleDemand, ...] = ()
    grade: FootballGrade | None = None
    venue: str = ""
    # The day the police learned of the event: decides the rest-day notice tier and whether the
    # event was known when the roster was published.
    notified: dt.date | None = None
    status: EventStatus = "planned"


class Tour(Record, frozen=True):
    """One day's duty at an event for the officers deployed to it."""

    event_id: str
    index: int
    day: dt.date
    start: dt.datetime
    end: dt.datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0


# --------------------------------------------------------------------------- policy


class Slot(Record, frozen=True):
    """Part of a role: `count` officers of one of `ranks` holding every skill in `skills`."""

    ranks: tuple[Rank, ...]
    skills: tuple[str, ...] = ()
    count: int = 1
    label: str = ""


class RoleSpec(Record, frozen=True):
    """A deployable role. A multi-slot role (serial, PSU) is one unit formed from one source."""

    label: str
    slots: tuple[Slot, ...]

    @property
    def size(self) -> int:
        return sum(s.count for s in self.slots)

    @property
    def is_unit(self) -> bool:
        return self.size > 1


class Floors(Record, frozen=True):
    """Share of each duty role's on-duty officers that must stay on core duty that day."""

    investigation: float = 0.85
    response: float = 0.75
    neighbourhood: float = 0.0
    central: float = 0.0

    def share(self, role: str) -> float:
        return float(getattr(self, role))


class TourTime(Record, frozen=True):
    start_minute: int  # minutes after midnight
    hours: float


class ShiftPattern(Record, frozen=True):
    """A repeating roster: one letter a day, a key into Policy.tour_times or 'R' for a rest day."""

    cycle: str


class WorkingTime(Record, frozen=True):
    min_rest_hours: float = 11.0
    max_consecutive_work_days: int = 7
    max_average_weekly_hours: float = 48.0
    reference_weeks: int = 17
    max_tour_hours: float = 12.0
    briefing_minutes: int = 60  # officers report before the event and stand down after it


class CostPolicy(Record, frozen=True):
    """Costs in paid-hour equivalents."""

    short_notice_days: int = 15
    short_notice_multiplier: float = 1.5
    short_notice_min_hours: float = 4.0
    # With enough notice the officer gets a replacement rest day: the cost is the day given back.
    long_notice_multiplier: float = 1.0
    public_holiday_multiplier: float = 2.0
    overtime_multiplier: float = 4.0 / 3.0
    # Inspectors and above are owed time off in lieu instead of overtime pay.
    no_overtime_ranks: tuple[Rank, ...] = ("INSP", "CI", "SUPT")


class Replanning(Record, frozen=True):
    """How a published plan may change: the windows and what a change to a notified duty costs."""

    # Tours starting within this lead time of a re-plan move only if nothing else covers the change.
    frozen_hours: float = 24.0
    # A tour brought forward with less notice than this pays the early hours as overtime.
    due_notice_hours: float = 8.0
    # Paid-hour equivalents per officer whose notified duty changes, on top of what the
    # regulations pay: at equal cost, fewer officers are disturbed.
    change_weight: float = 1.0


class Weights(Record, frozen=True):
    """Objective weights, in paid-hour equivalents. Coverage must dominate cost."""

    uncovered: dict[str, float] = msgspec.field(
        default_factory=lambda: {"critical": 10000.0, "high": 2000.0, "normal": 400.0, "low": 100.0}
    )
    travel_per_officer_minute: float = 0.02
    # Fairness is priced on each day's highest share of a borough's on-duty officers taken for
    # events: a little for every percentage point, and much more for each point above the
    # threshold, where it outweighs a rest-day cancellation so the model relieves that borough
    # from rest days. Quiet days stay cheap; days like Carnival are spread. Capped per day so
    # that coverage always comes first (rules.fairness_weights).
    fairness_per_point: float = 5.0
    fairness_threshold: float = 0.30
    fairness_per_point_above: float = 50.0


def default_roles() -> dict[str, RoleSpec]:
    pc: tuple[Rank, ...] = ("PC",)
    ps: tuple[Rank, ...] = ("PS",)
    insp: tuple[Rank, ...] = ("INSP",)
    return {
        "serial_l2": RoleSpec(
            label="Level 2 serial",
            slots=(
                Slot(ranks=ps, skills=("PO_L2",), label="sergeant"),
                Slot(ranks=pc, skills=("PO_L2",), count=6, label="constable"),
                Slot(ranks=pc, skills=("PO_L2", "DRIVER"), label="driver"),
            ),
        ),
        "psu_l2": RoleSpec(
            label="Level 2 PSU",
            slots=(
                Slot(ranks=insp, skills=("PO_L2",), label="inspector"),
                Slot(ranks=ps, skills=("PO_L2",), count=3, label="sergeant"),
                Slot(ranks=pc, skills=("PO_L2",), count=16, label="constable"),
                Slot(ranks=pc, skills=("PO_L2", "MEDIC"), count=2, label="medic"),
                Slot(ranks=pc, skills=("PO_L2", "DRIVER"), count=3, label="driver"),
            ),
        ),
        "serial_l1": RoleSpec(
            label="Level 1 serial (TSG)",
            slots=(
                Slot(ranks=ps, skills=("PO_L1",), label="sergeant"),
                Slot(ranks=pc, skills=("PO_L1",), count=6, label="constable"),
                Slot(ranks=pc, skills=("PO_L1", "DRIVER"), label="driver"),
            ),
        ),
        "gold": RoleSpec(label="Gold commander", slots=(Slot(ranks=("SUPT",), skills=("GOLD",)),)),
        "silver": RoleSpec(label="Silver commander", slots=(Slot(ranks=("CI", "SUPT"), skills=("SILVER",)),)),
        "bronze": RoleSpec(label="Bronze commander", slots=(Slot(ranks=("INSP", "CI"), skills=("BRONZE",)),)),
        "plo": RoleSpec(label="Protest liaison officer", slots=(Slot(ranks=("PC", "PS"), skills=("PLO",)),)),
        "polsa": RoleSpec(
            label="Police search adviser", slots=(Slot(ranks=("PS", "INSP"), skills=("POLSA",)),)
        ),
        "mounted": RoleSpec(label="Mounted officer", slots=(Slot(ranks=pc, skills=("MOUNTED",)),)),
        "dog": RoleSpec(label="Dog handler", slots=(Slot(ranks=pc, skills=("DOG",)),)),
        "medic": RoleSpec(label="Medic", slots=(Slot(ranks=pc, skills=("MEDIC",)),)),
        "inspector": RoleSpec(label="Inspector", slots=(Slot(ranks=insp),)),
        "sergeant": RoleSpec(label="Sergeant", slots=(Slot(ranks=ps),)),
        "constable": RoleSpec(label="Constable (Level 3)", slots=(Slot(ranks=pc),)),
    }


def default_tour_times() -> dict[str, TourTime]:
    return {
        "E": TourTime(start_minute=7 * 60, hours=8.0),
        "L": TourTime(start_minute=15 * 60, hours=8.0),
        "N": TourTime(start_minute=22 * 60, hours=8.0),
        "D": TourTime(start_minute=8 * 60, hours=8.0),
    }


def default_shift_patterns() -> dict[str, ShiftPattern]:
    return {
        # Response: rotating earlies, lates and nights, two rest days a week.
        "response": ShiftPattern(cycle="EEEEERRLLLLLRRNNNNNRR"),
        # Office hours for investigation and neighbourhood teams, weekends rotating.
        "5x2": ShiftPattern(cycle="DDDDDRR"),
        "neighbourhood": ShiftPattern(cycle="DDDDDRRLLLLLRR"),
    }


class Policy(Record, frozen=True):
    floors: Floors = Floors()
    borough_floors: dict[str, Floors] = {}  # per-unit overrides
    working_time: WorkingTime = WorkingTime()
    costs: CostPolicy = CostPolicy()
    weights: Weights = Weights()
    replanning: Replanning = Replanning()
    roles: dict[str, RoleSpec] = msgspec.field(default_factory=default_roles)
    skill_implies: dict[str, tuple[str, ...]] = msgspec.field(
        default_factory=lambda: {"PO_L1": ("PO_L2",), "GOLD": ("SILVER",), "SILVER": ("BRONZE",)}
    )
    tour_times: dict[str, TourTime] = msgspec.field(default_factory=default_tour_times)
    shift_patterns: dict[str, ShiftPattern] = msgspec.field(default_factory=default_shift_patterns)
    pattern_epoch: dt.date = dt.date(2024, 1, 1)  # a Monday
    public_holidays: tuple[dt.date, ...] = ()
    roster_published: dt.date | None = None  # events notified later are short-notice additions

    def floors_for(self, unit: str) -> Floors:
        return self.borough_floors.get(unit, self.floors)


# --------------------------------------------------------------------------- problem


class PlanningProblem(Record, frozen=True):
    """Everything a solve needs: who, what, when and under which rules."""

    organisation: Organisation
    officers: tuple[Officer, ...]
    events: tuple[Event, ...]
    policy: Policy
    start: dt.date
    end: dt.date  # inclusive
