"""Officer response bodies (officer records are personal data: planner role only)."""

from __future__ import annotations

import datetime as dt

from api.features.common import PageInfo, Schema
from planner.domain import DutyRole, Rank


class LeaveOut(Schema):
    start: dt.date
    end: dt.date  # inclusive


class OfficerOut(Schema):
    service_number: str
    name: str
    unit: str
    rank: Rank
    duty_role: DutyRole
    skills: list[str]
    shift_pattern: str
    pattern_offset: int
    leave: list[LeaveOut]


class OfficerPage(Schema):
    items: list[OfficerOut]
    page: PageInfo
