"""API keys and roles.

A key reads `mep_<id>_<secret>`; the database stores the id and a SHA-256 of the secret (keys are
256-bit random, so a slow hash buys nothing). Every request except /health and /schema must carry a
key (`X-API-Key: ...` or `Authorization: Bearer ...`); the middleware answers 401 otherwise. Each route
then names the roles it admits with `allow(...)`; the app refuses to start if a route has no guard
(deny by default)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Guard
from sqlalchemy import Insert, insert, select

from api.db.engine import Reader, utcnow
from api.db.models import ApiKey

Role = Literal["planner", "scheduler", "analyst", "admin"]
ROLES: tuple[Role, ...] = ("planner", "scheduler", "analyst", "admin")
PUBLIC_PATHS = ("/health", "/schema", "/dashboard")  # the dashboard page holds no data
INDEX_PATH = "/"  # public too: it only points at the routes above


def is_public(path: str) -> bool:
    """Routes that answer without a key (and hold no data)."""
    return path == INDEX_PATH or path.startswith(PUBLIC_PATHS)


KEY_PREFIX = "mep"


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role


def new_key() -> tuple[str, str, str]:
    """(full key shown once to the caller, key id, hash stored)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{KEY_PREFIX}_{key_id}_{secret}", key_id, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def insert_key_statement(role: Role, label: str) -> tuple[str, str, Insert]:
    full, key_id, digest = new_key()
    stmt = insert(ApiKey).values(
        id=key_id, secret_hash=digest, role=role, label=label, created_at=utcnow(), revoked_at=None
    )
    return full, key_id, stmt


class KeyCache:
    """Verified keys for a few seconds, so that a busy read path does not hit the key table."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lookups: dict[str, _Lookup] = {}  # lookups under way, by presented key
        self._revocations = 0

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, principal)

    async def verified(self, key: str, reader: Reader) -> Principal | None:
        """The key's principal, from the cache or the database; concurrent first requests with the
        same key share one lookup (a client opening many connections at once would otherwise send
        as many identical queries). A lookup that began before a revocation through this process
        answers no request that arrived after it, and its result is not cached."""
        principal = self.get(key)
        if principal is not None:
            return principal
        revocations = self._revocations
        lookup = self._lookups.get(key)
        if lookup is None or lookup.revocations < revocations:
            lookup = self._lookups[key] = _Lookup(revocations, asyncio.ensure_future(lookup_key(reader, key)))
            lookup.result.add_done_callback(lambda _: self._drop_lookup(key, lookup))
        principal = await asyncio.shield(lookup.result)
        if principal is not None and lookup.revocations == self._revocations:
            self.put(key, principal)
        return principal

    def _drop_lookup(self, key: str, lookup: _Lookup) -> None:
        if self._lookups.get(key) is lookup:
            del self._lookups[key]

    def forget(self, key_id: str) -> None:
        """The key was revoked (committed) through this process."""
        self._revocations += 1
        for key in [k for k, (_, p) in self._entries.items() if p.key_id == key_id]:
            del self._entries[key]


@dataclass(frozen=True)
class _Lookup:
    revocations: int  # revocations through this process when the lookup began
    result: asyncio.Future[Principal | None]


def _presented_key(connection: ASGIConnection) -> str | None:  # type: ignore[type-arg]
    key = connection.headers.get("x-api-key")
    if key:
        return key
    auth = connection.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        key = _presented_key(connection)
        if not key:
            raise NotAuthorizedException("An API key is required (X-API-Key header).")
        state = connection.app.state
        principal = await state.key_cache.verified(key, state.reader)
        if principal is None:
            raise NotAuthorizedException("The API key is not valid.")
        return AuthenticationResult(user=principal, auth=key)


async def lookup_key(reader: Reader, key: str) -> Principal | None:
    parts = split_key(key)
    if parts is None:
        return None
    key_id, secret = parts
    row = (
        await reader.execute(
            select(ApiKey.secret_hash, ApiKey.role, ApiKey.revoked_at).where(ApiKey.id == key_id)
        )
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, hash_secret(secret)):
        return None
    return Principal(key_id=key_id, role=row.role)


def allow(*roles: Role) -> Guard:
    """A guard admitting exactly these roles."""
    admitted = frozenset(roles)

    # async: Litestar runs a plain function guard on a worker thread, a hand-off per request
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
        user = connection.scope.get("user")
        if not isinstance(user, Principal):
            raise NotAuthorizedException("An API key is required (X-API-Key header).")
        if user.role not in admitted:
            raise PermissionDeniedException(f"The {user.role} role may not use this endpoint.")

    guard.roles = admitted  # type: ignore[attr-defined]
    return guard


def principal(connection: ASGIConnection) -> Principal:  # type: ignore[type-arg]
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("An API key is required (X-API-Key header).")
    return user


ALL_READERS: tuple[Role, ...] = ("planner", "scheduler", "analyst")
