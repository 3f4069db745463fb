"""Policy request and response bodies: the policy itself is planner.domain.Policy."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

from api.features.common import Schema
from planner.domain import Policy


class PolicyUpdate(Schema):
    policy: Policy
    note: Annotated[str, Meta(max_length=500)] = ""  # policy_versions.note


class PolicyOut(Schema):
    version: int
    created_at: dt.datetime
    note: str
    policy: Policy


class PolicyVersionOut(Schema):
    version: int
    created_at: dt.datetime
    note: str
