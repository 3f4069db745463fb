"""Officer imports (upsert by service number) and queries, by offset or keyset cursor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db.engine import Reader
from api.db.models import OfficerRow
from api.db.repositories import OFFICER_COLUMNS, OFFICER_FIELDS, keyset_page, officer_values, page
from api.features.common import PageInfo, page_info
from api.features.imports_common import ImportReport, run_import
from api.features.officers.schemas import LeaveOut, OfficerOut, OfficerPage
from api.imports import ImportContext
from api.problems import ProblemError
from planner.domain import Officer

_strings = msgspec.json.Decoder(list[str])
_ranges = msgspec.json.Decoder(list[tuple[dt.date, dt.date]])


_UNPACKED = (
    "service_number",
    "name",
    "unit",
    "rank",
    "duty_role",
    "skills",
    "shift_pattern",
    "pattern_offset",
    "leave",
)
if OFFICER_FIELDS != _UNPACKED:  # officer_out unpacks rows by position
    raise RuntimeError(f"officer columns are {OFFICER_FIELDS}; officer_out unpacks {_UNPACKED}")


def officer_out(row: Any) -> OfficerOut:
    """From a row of `OFFICER_COLUMNS` (and possibly more columns after them), unpacked by position:
    SQLAlchemy's access to a row's fields by name costs three times as much (a page has 100 rows)."""
    service_number, name, unit, rank, duty_role, skills, shift_pattern, pattern_offset, leave = row[:9]
    return OfficerOut(
        service_number=service_number,
        name=name,
        unit=unit,
        rank=rank,
        duty_role=duty_role,
        skills=_strings.decode(skills),
        shift_pattern=shift_pattern,
        pattern_offset=pattern_offset,
        leave=[LeaveOut(start=a, end=b) for a, b in _ranges.decode(leave)],
    )


async def import_officers(
    conn: AsyncConnection, body: bytes, parse: Callable[[bytes, ImportContext], list[Officer]]
) -> ImportReport:
    return await run_import(
        conn, body, parse, officer_values, OfficerRow.__table__, "service_number", OFFICER_FIELDS, "officers"
    )


async def list_officers(
    conn: Reader,
    *,
    unit: str | None,
    rank: str | None,
    duty_role: str | None,
    skill: str | None,
    limit: int,
    offset: int,
    after: str | None,
) -> OfficerPage:
    if after is not None and offset:
        raise ProblemError(400, "Use either offset or after, not both.")
    query = select(*OFFICER_COLUMNS).order_by(OfficerRow.service_number)
    if unit:
        query = query.where(OfficerRow.unit == unit)
    if rank:
        query = query.where(OfficerRow.rank == rank)
    if duty_role:
        query = query.where(OfficerRow.duty_role == duty_role)
    if skill:
        query = query.where(OfficerRow.skills.contains(f'"{skill}"'))
    if after is None:
        rows, total = await page(conn, query, limit, offset)
        info = page_info(total, limit, offset)
        if info.next_offset is not None and rows:
            info.next_after = rows[-1].service_number
        return OfficerPage(items=[officer_out(r) for r in rows], page=info)
    rows, more = await keyset_page(conn, query, OfficerRow.service_number, after, limit)
    info = PageInfo(
        total=None,
        limit=limit,
        offset=0,
        next_offset=None,
        next_after=rows[-1].service_number if more and rows else None,
    )
    return OfficerPage(items=[officer_out(r) for r in rows], page=info)


async def get_officer(conn: Reader, service_number: str) -> OfficerOut:
    row = (
        await conn.execute(select(*OFFICER_COLUMNS).where(OfficerRow.service_number == service_number))
    ).first()
    if row is None:
        raise ProblemError(404, f"No officer {service_number!r}.")
    return officer_out(row)
