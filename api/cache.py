"""A small in-process cache of encoded GET responses, keyed by role, URL and the versions of the data
the route reads.

It sits after the API-key middleware, so only authenticated requests reach it, and it stores only
200 responses: a 200 for a role on a route means that role's guard admits the route, so a hit never
skips an authorisation decision that could differ. Correctness rests on the dataset versions
(`dataset_versions`: calendar, officers, policy), which every write bumps in the same transaction as
the change. The versions are read from the database at most every `version_ttl` seconds, and again
right after any write request this process served, so a client always reads its own writes; a
write made through another process shows within `version_ttl` (PLANNER_VERSION_TTL_SECONDS:
1 s by default with one API process; 0, a read on every request, by default with several, so that
a client reads its own writes whichever process answers). Plans are immutable, so
their result routes depend only on the officer records (named assignments join officer names)."""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import select

from api.db.engine import Reader
from api.db.models import DatasetVersion

# route pattern -> datasets its responses depend on
RULES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"^/reference/deployable-roles"), ("policy",)),
    (re.compile(r"^/reference/"), ()),
    (re.compile(r"^/policy(/|$)"), ("policy",)),
    (re.compile(r"^/events(/|$)"), ("calendar",)),
    (re.compile(r"^/officers(/|$)"), ("officers",)),
    # results of a finished plan (never the job status itself, which changes while it runs)
    (re.compile(r"^/plans/[^/]+/.+"), ("officers",)),
)
# A published plan's lineage grows with every re-plan, which no dataset version tracks: never cached.
UNCACHED = re.compile(r"^/plans/[^/]+/(versions|changes|pins|publish)(/|$)")
MAX_ENTRIES = 4096
MAX_BODY = 1024 * 1024


class ResponseCache:
    def __init__(
        self, max_entries: int = MAX_ENTRIES, max_body: int = MAX_BODY, version_ttl: float = 1.0
    ) -> None:
        self.max_entries = max_entries
        self.max_body = max_body
        self.version_ttl = version_ttl
        self._read: _VersionRead | None = None  # the latest read of the dataset versions
        self._generation = 0  # writes through this process so far
        self._entries: OrderedDict[tuple[Any, ...], tuple[list[tuple[bytes, bytes]], bytes]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        else:
            self.misses += 1
        return entry

    def put(self, key: tuple[Any, ...], headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if len(body) > self.max_body:
            return
        self._entries[key] = (headers, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def versions_stale(self) -> None:
        """A write went through this process: no read that started before it may answer later lookups."""
        self._generation += 1

    async def versions(self, reader: Reader) -> dict[str, int]:
        """The dataset versions, as of a read that started at most `version_ttl` seconds before this
        call and after any write this process made before it. Reads run one at a time and every
        caller that a read satisfies shares it: a burst of requests costs one read, or two when the
        TTL is 0 (those arriving while a read is under way share the next one)."""
        arrived, generation = time.monotonic(), self._generation
        while True:
            read = self._read
            if (
                read is not None
                and read.started >= arrived - self.version_ttl
                and read.generation >= generation
                and not _failed(read.result)
            ):
                return await asyncio.shield(read.result)
            if read is not None and not read.result.done():
                await asyncio.wait([read.result])  # too old for this caller: share the next one
                continue
            self._read = _VersionRead(
                started=time.monotonic(),
                generation=self._generation,
                result=asyncio.ensure_future(_read_versions(reader)),
            )


@dataclass(frozen=True)
class _VersionRead:
    started: float
    generation: int
    result: asyncio.Future[dict[str, int]]


def _failed(result: asyncio.Future[Any]) -> bool:
    return result.done() and (result.cancelled() or result.exception() is not None)


async def _read_versions(reader: Reader) -> dict[str, int]:
    rows = await reader.execute(select(DatasetVersion.name, DatasetVersion.version))
    return {row.name: row.version for row in rows}


def _datasets(path: str) -> tuple[str, ...] | None:
    if UNCACHED.search(path):
        return None
    for pattern, datasets in RULES:
        if pattern.search(path):
            return datasets
    return None


class ResponseCacheMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        state = scope["litestar_app"].state
        cache: ResponseCache | None = state.get("response_cache")
        if scope["method"] != "GET":
            if cache is None:
                await self.app(scope, receive, send)
                return

            async def after_write(message: Message) -> None:
                # the handler has committed before its response starts: from then on, no versions
                # read that began earlier may answer (the client may read as soon as it has the reply)
                if message["type"] == "http.response.start":
                    cache.versions_stale()
                await send(message)

            try:
                await self.app(scope, receive, after_write)
            finally:
                cache.versions_stale()  # and once more for a write that failed before responding
            return
        path = scope["path"]
        datasets = _datasets(path)
        user = scope.get("user")
        if datasets is None or user is None or cache is None:
            await self.app(scope, receive, send)
            return
        versions: tuple[int, ...] = ()
        if datasets:
            found = await cache.versions(state.reader)
            versions = tuple(found.get(d, 0) for d in datasets)
        # the raw path: routing has normalised scope["path"] ("a//b" and "a/b" look the same there)
        raw_path = scope.get("raw_path") or path.encode()
        key = (user.role, raw_path, scope.get("query_string", b""), versions)
        hit = cache.get(key)
        if hit is not None:
            headers, body = hit
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        captured: dict[str, Any] = {"status": None, "headers": None, "chunks": [], "size": 0}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body" and captured["status"] == 200:
                body = message.get("body", b"")
                captured["size"] += len(body)
                if captured["size"] <= cache.max_body:
                    captured["chunks"].append(body)
                if not message.get("more_body", False) and captured["size"] <= cache.max_body:
                    cache.put(key, captured["headers"], b"".join(captured["chunks"]))
            await send(message)

        await self.app(scope, receive, capture)
