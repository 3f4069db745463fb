"""API key bodies. A new key's secret is in the create response only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

from api.auth import Role
from api.features.common import Schema


class KeyCreate(Schema):
    role: Role
    label: Annotated[str, Meta(max_length=200)] = ""  # api_keys.label


class KeyOut(Schema):
    id: str
    role: Role
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class KeyCreated(KeyOut, kw_only=True):
    key: str  # the full secret key: shown only in this response
