"""Event request and response bodies."""

from __future__ import annotations

import datetime as dt

from api.features.common import PageInfo, Schema
from planner.domain import EventKind, EventStatus, FootballGrade, Priority


class DemandIn(Schema):
    role: str  # a deployable role code (GET /reference/deployable-roles)
    count: int


class EventFields(Schema):
    name: str
    kind: EventKind
    borough: str  # ONS code
    start: dt.datetime  # London local time, no offset
    end: dt.datetime
    priority: Priority = "normal"
    demand: list[DemandIn] = []
    grade: FootballGrade | None = None
    venue: str = ""
    notified: dt.date | None = None
    status: EventStatus = "planned"


class EventCreate(EventFields, kw_only=True):
    external_id: str


class EventOut(EventCreate, kw_only=True):
    created_at: dt.datetime
    updated_at: dt.datetime


class EventPage(Schema):
    items: list[EventOut]
    page: PageInfo
