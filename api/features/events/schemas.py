"""Event request and response bodies. The bounds are the import checks' (api.imports), so that the
OpenAPI document shows what the server accepts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

from api.features.common import PageInfo, Schema
from api.imports import (
    EVENT_ID_LENGTH,
    EVENT_ID_PATTERN,
    EVENT_TEXT_LENGTH,
    MAX_DEMAND_COUNT,
    ROLE_CODE_LENGTH,
)
from planner.domain import EventKind, EventStatus, FootballGrade, Priority

EventId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=EVENT_ID_LENGTH,
        pattern=EVENT_ID_PATTERN,
        description="The calendar's id: printable ASCII without spaces, not starting with '/'",
    ),
]
RoleCode = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=ROLE_CODE_LENGTH,
        description="A deployable role code (GET /reference/deployable-roles)",
    ),
]
EventTime = Annotated[
    dt.datetime,
    Meta(description="With an offset, or London local time without one (sent back with London's offset)"),
]


class DemandIn(Schema):
    role: RoleCode
    count: Annotated[int, Meta(ge=1, le=MAX_DEMAND_COUNT)]  # units of the role per tour


class EventFields(Schema):
    name: Annotated[str, Meta(min_length=1, max_length=EVENT_TEXT_LENGTH["name"])]
    kind: EventKind
    borough: Annotated[
        str, Meta(min_length=1, max_length=16, description="ONS code (GET /reference/boroughs)")
    ]
    start: EventTime
    end: EventTime
    priority: Priority = "normal"
    demand: list[DemandIn] = []
    grade: FootballGrade | None = None
    venue: Annotated[str, Meta(max_length=EVENT_TEXT_LENGTH["venue"])] = ""
    notified: dt.date | None = None
    status: EventStatus = "planned"


class EventCreate(EventFields, kw_only=True):
    external_id: EventId


class EventOut(EventCreate, kw_only=True):
    created_at: dt.datetime
    updated_at: dt.datetime


class EventPage(Schema):
    items: list[EventOut]
    page: PageInfo
