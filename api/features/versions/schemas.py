"""Published plans, their versions, re-plans, the change log, notifications, pins, recommendations and
officer absences: the API contract."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from api.features.common import PageInfo, Schema

ShortText = Annotated[str, msgspec.Meta(max_length=500)]
EventRef = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ServiceRef = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
TourIndex = Annotated[int, msgspec.Meta(ge=0, le=10_000)]


class PublishRequest(Schema):
    """Publish a stored plan: officers are told their duties from it, so it never changes in place."""

    through: dt.date | None = None  # days after this are a draft (changes there cost nothing); null: all
    reason: ShortText = ""


class ReplanRequest(Schema):
    """Re-plan a version for every input change since it (events, absences, leave, demand)."""

    reason: ShortText = ""
    # When the change is made: notice counts from here and tours started before it are history.
    # Default: now. With an offset (RFC 3339); a naive time is read as UTC.
    as_of: dt.datetime | None = None


class ReplanStatsOut(Schema):
    """How the re-plan answered: null for the published version."""

    seconds: float
    days: list[dt.date]  # the days whose deployments it looked at
    withdrawn_forced: int  # assignments that could not stand
    members_replaced: int  # unit holes filled by one replacement officer
    units_added: int
    units_released: int  # lower-priority units released for critical or high demand
    frozen_released: int  # of those, inside the frozen window
    units_made_compliant: int  # units formed again with fewer short-notice rest-day cancellations
    short_before: int  # officers short on the affected tours before covering
    short_after: int


class VersionOut(Schema):
    id: str
    plan_id: str  # the published plan this lineage started from
    number: int
    parent: int | None
    kind: Literal["published", "replan"]
    author: str | None  # API key id
    reason: str
    created_at: dt.datetime
    as_of: dt.datetime  # notice counts from here (London time, with its offset)
    published_through: dt.date | None
    inputs: list[str]  # the input changes this version answers
    assignments_added: int
    assignments_removed: int
    officers_changed: int
    disruption_cost: float  # paid-hour equivalents the changes cost under the regulations, plus weights
    officers_short: int  # officers still short on the tours the re-plan looked at
    stats: ReplanStatsOut | None
    links: dict[str, str]


class VersionList(Schema):
    items: list[VersionOut]
    latest: int


class DutyOut(Schema):
    kind: Literal["event", "rostered", "rest", "leave"]
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    event_id: str | None = None
    tour_index: int | None = None
    role: str | None = None


class ChangeOut(Schema):
    version: int
    service_number: str
    unit: str
    day: dt.date
    kind: Literal["added", "withdrawn", "moved", "retimed"]
    before: DutyOut
    after: DutyOut
    notice_days: int
    clear_days: int
    cost_class: str
    pay: float
    weight: float
    cost: float
    notify: bool  # inside the published horizon: the officer must be told


class ChangePage(Schema):
    items: list[ChangeOut]
    page: PageInfo


class CoverageChange(Schema):
    event_id: str
    tour_index: int
    role: str
    required: int
    before: int  # units deployed in the parent version
    after: int


class DiffOut(Schema):
    version: int
    parent: int | None
    changes: list[ChangeOut]
    coverage: list[CoverageChange]


class NotificationOut(Schema):
    """One officer to be told of one changed duty (what a duty-management system imports)."""

    service_number: str
    name: str
    unit: str
    day: dt.date
    change: Literal["added", "withdrawn", "moved", "retimed"]
    before: str
    after: str
    notice_days: int
    clear_days: int
    cost_class: str
    cost: float


class NotificationList(Schema):
    version: int
    items: list[NotificationOut]


class AssignmentOut(Schema):
    service_number: str
    event_id: str
    tour_index: int
    day: dt.date
    role: str
    slot: int
    unit_id: str
    source: str
    start: dt.datetime
    end: dt.datetime
    rest_day_cancelled: bool


class AssignmentPage(Schema):
    version: int
    items: list[AssignmentOut]
    page: PageInfo


class CandidateOut(Schema):
    service_number: str
    unit: str
    rank: str
    slot: str
    on_duty: bool
    cost: float
    rest_day: float
    overtime: float
    travel: float
    fairness: float
    disruption: float
    cost_class: str


class RecommendationOut(Schema):
    version: int
    event_id: str
    tour_index: int
    day: dt.date
    role: str
    suitable: int
    lawful: int
    excluded: dict[str, int]
    candidates: list[CandidateOut]


class PinIn(Schema):
    event_id: EventRef
    tour_index: TourIndex | None = None
    service_number: ServiceRef | None = None


class PinOut(Schema):
    id: int
    event_id: str
    tour_index: int | None
    service_number: str | None
    created_by: str | None
    created_at: dt.datetime


class PinList(Schema):
    items: list[PinOut]


AbsenceReason = Literal["sickness", "court", "leave", "training", "other"]


class AbsenceIn(Schema):
    start: dt.date
    end: dt.date
    reason: AbsenceReason
    note: ShortText = ""


class AbsenceOut(Schema):
    id: int
    service_number: str
    start: dt.date
    end: dt.date
    reason: str
    note: str
    created_by: str | None
    created_at: dt.datetime
