"""Pieces shared by the feature controllers: the request's DB connection, page bounds, CSV responses."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncGenerator, Iterable, Sequence
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import unquote

import msgspec
from litestar import Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType
from litestar.params import PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db.engine import Reader
from api.imports import LONDON
from api.problems import Problem, ProblemError
from api.settings import Settings


class Schema(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for request/response bodies: keyword-only, unknown fields rejected."""


class PageInfo(Schema):
    total: int | None  # rows matching the filters; null on keyset (`after`) pages, which skip the count
    limit: int
    offset: int
    next_offset: int | None
    next_after: str | None = None  # keyset cursor for the next page, where the list supports `after`


async def provide_connection(state: State) -> AsyncGenerator[AsyncConnection, None]:
    """The request's connection, for writes (in their own `conn.begin()` transactions) and for reads
    of unbounded size (exports, analysis)."""
    async with state.engine.connect() as conn:
        yield conn


def provide_reader(state: State) -> Reader:
    """Bounded reads (list pages, single records): see `api.db.engine.Reader`."""
    return state.reader  # type: ignore[no-any-return]


def provide_settings(state: State) -> Settings:
    return state.settings  # type: ignore[no-any-return]


# Event ids come from external calendars and may hold "/" (e.g. "FA/2027/0412" or a URL-like
# iCalendar UID), so routes take them as a path parameter: the rest of the URL path.
EventIdPath = Annotated[
    PurePosixPath,
    PathParameter(
        description="An event's external id, as in the calendar it came from (percent-encode it; a "
        "literal '/' also works)",
        schema_extra={"type": OpenAPIType.STRING},
    ),
]


def event_id(request: Request[Any, Any, Any], routed: PurePosixPath) -> str:
    """The event id exactly as sent. Litestar routes on a normalised path and hands `routed` over
    normalised ('//' collapsed, a trailing '/' dropped), which would change ids such as
    "https://example.org/match/1"; the raw request path keeps them. `routed` checks the two agree
    (they would not under a mount prefix), and is the answer when they do not."""
    template, raw = request.scope.get("path_template", ""), request.scope.get("raw_path")
    if "{" in template and raw is not None:
        before = template[: template.rindex("{")].count("/")
        exact = unquote(raw.decode("latin-1")).split("/", before)[-1]
        if PurePosixPath("/" + exact) == routed:
            return exact
    return str(routed)[1:]


def bounded_query(**kwargs: Any) -> Any:
    """QueryParameter(...) whose bounds of 0 stay in the OpenAPI document (Litestar 2.25 drops a
    falsy `ge`/`gt`/`le`/`lt` there, though it enforces it)."""
    names = {"ge": "minimum", "gt": "exclusive_minimum", "le": "maximum", "lt": "exclusive_maximum"}
    zero = {names[k]: 0 for k, v in kwargs.items() if k in names and v == 0}
    if zero:
        kwargs["schema_extra"] = {**(kwargs.get("schema_extra") or {}), **zero}
    return QueryParameter(**kwargs)


# The largest integer every JSON client reads exactly (2^53 - 1); far past any table's rows, and
# inside the databases' 64-bit OFFSET.
MAX_OFFSET = 2**53 - 1
OffsetParam = bounded_query(name="offset", ge=0, le=MAX_OFFSET, required=False, description="Rows to skip.")
# The maximum is PLANNER_MAX_PAGE_SIZE: page_bounds checks it, and the OpenAPI document shows it on
# every parameter with this description (api.openapi.finish_contract).
LIMIT_DESCRIPTION = "Page size (at most PLANNER_MAX_PAGE_SIZE)."
LimitParam = bounded_query(name="limit", ge=1, required=False, description=LIMIT_DESCRIPTION)


INTEGER_QUERY = re.compile(r"[0-9]{1,20}")


async def refuse_unreadable_input(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook for what no route can take, in one place:

    - a NUL character anywhere (path, query, body): PostgreSQL text cannot hold one, so it would fail
      deep in a query or an insert;
    - `limit` and `offset` not written as integers: query values are converted leniently, which
      would read `offset=5.0` as 5, and the document says integer."""
    raw = request.scope.get("raw_path", b"") + b"?" + request.scope.get("query_string", b"")
    if b"%00" in raw or b"\x00" in raw or "\x00" in request.url.path:
        raise ProblemError(400, "The URL holds a NUL character, which no field may hold.")
    for name in ("limit", "offset"):
        for value in request.query_params.getall(name, ()):
            if not INTEGER_QUERY.fullmatch(value):
                raise ProblemError(400, f"{name} must be a whole number written with digits only.")
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()  # kept for the handler
        if b"\x00" in body or b"\\u0000" in body:
            raise ProblemError(400, "The request body holds a NUL character, which no field may hold.")


def page_bounds(
    settings: NamedDependency[Settings], limit: int | None, offset: int | None
) -> tuple[int, int]:
    limit = settings.server.default_page_size if limit is None else limit
    if limit > settings.server.max_page_size:
        raise ProblemError(400, f"limit may be at most {settings.server.max_page_size}.")
    return limit, offset or 0


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """A stored timestamp (naive UTC) as the API sends it: RFC 3339 with its offset."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def london(value: dt.datetime) -> dt.datetime:
    """An event time (naive London local, as planner.domain keeps it) with London's offset that day."""
    return value.replace(tzinfo=LONDON) if value.tzinfo is None else value


def page_info(total: int, limit: int, offset: int) -> PageInfo:
    nxt = offset + limit
    return PageInfo(total=total, limit=limit, offset=offset, next_offset=nxt if nxt < total else None)


# A cell starting with one of these is a formula to a spreadsheet (OWASP, CSV injection).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as a CSV export writes it: a text cell a spreadsheet would run as a formula gets a
    leading `'` (numbers stay numbers); times are London local, as the event calendar is."""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_LEADS) else value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(LONDON).replace(tzinfo=None)
    return value


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response[bytes]:
    """Every CSV export: each cell through csv_cell, quoted where the csv module must."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return Response(
        buffer.getvalue().encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def problem_responses(*codes: int) -> dict[int, Any]:
    """OpenAPI entries for the Problem Details a route may answer with."""
    from litestar.openapi.datastructures import ResponseSpec

    return {
        code: ResponseSpec(
            data_container=Problem,
            media_type="application/problem+json",
            description=f"Problem Details ({code})",
        )
        for code in codes
    }
