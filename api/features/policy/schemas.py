"""Policy request and response bodies: the policy itself is planner.domain.Policy."""

from __future__ import annotations

import datetime as dt

from api.features.common import Schema
from planner.domain import Policy


class PolicyUpdate(Schema):
    policy: Policy
    note: str = ""


class PolicyOut(Schema):
    version: int
    created_at: dt.datetime
    note: str
    policy: Policy


class PolicyVersionOut(Schema):
    version: int
    created_at: dt.datetime
    note: str
