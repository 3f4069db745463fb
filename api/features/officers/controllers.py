"""Officers: bulk import (CSV, JSON) upserting by service number; list, filter, read. Planner role only:
officer records are personal data."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter, RawBody
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import allow
from api.db.models import OfficerRow
from api.db.repositories import OFFICER_COLUMNS, OFFICER_FIELDS, officer_values, page
from api.features.common import (
    LimitParam,
    OffsetParam,
    PageInfo,
    Schema,
    page_bounds,
    page_info,
    problem_responses,
)
from api.features.imports_common import ImportReport, run_import
from api.imports import parse_officers_csv, parse_officers_json
from api.openapi import raw_body_operation
from api.problems import ProblemError
from api.settings import Settings
from planner.domain import DutyRole, Officer, Rank

CSV_EXAMPLE = (
    "service_number,name,unit,rank,duty_role,skills,shift_pattern,pattern_offset,leave\n"
    "MP100001,Alex Smith,E09000033,PC,response,PO_L2;DRIVER,response,3,2027-08-01/2027-08-14\n"
)


class LeaveOut(Schema):
    start: dt.date
    end: dt.date


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


_strings = msgspec.json.Decoder(list[str])
_ranges = msgspec.json.Decoder(list[tuple[dt.date, dt.date]])


def officer_row_out(row: Any) -> OfficerOut:
    """Straight from the row (the list path builds up to a page of these)."""
    return OfficerOut(
        service_number=row.service_number,
        name=row.name,
        unit=row.unit,
        rank=row.rank,
        duty_role=row.duty_role,
        skills=_strings.decode(row.skills),
        shift_pattern=row.shift_pattern,
        pattern_offset=row.pattern_offset,
        leave=[LeaveOut(start=a, end=b) for a, b in _ranges.decode(row.leave)],
    )


def officer_out(o: Officer) -> OfficerOut:
    return OfficerOut(
        service_number=o.service_number,
        name=o.name,
        unit=o.unit,
        rank=o.rank,
        duty_role=o.duty_role,
        skills=list(o.skills),
        shift_pattern=o.shift_pattern,
        pattern_offset=o.pattern_offset,
        leave=[LeaveOut(start=r.start, end=r.end) for r in o.leave],
    )


class OfficerController(Controller):
    path = "/officers"
    tags = ["officers"]
    guards = [allow("planner")]
    responses = problem_responses(400, 401, 403)

    @post(
        "/import/csv",
        operation_id="importOfficersCsv",
        summary="Import officers from CSV",
        status_code=200,
        responses=problem_responses(413, 422),
        operation_class=raw_body_operation(
            "text/csv",
            f"Columns (header row required):\n\n```\n{CSV_EXAMPLE}```\n"
            "skills are `;`-separated; leave is `start/end` ranges, `;`-separated.",
        ),
    )
    async def import_csv(self, conn: NamedDependency[AsyncConnection], body: RawBody) -> ImportReport:
        """Upserts by service number. Any bad row rejects the whole file (422 listing every bad row)."""
        return await run_import(
            conn,
            body,
            parse_officers_csv,
            officer_values,
            OfficerRow.__table__,
            "service_number",
            OFFICER_FIELDS,
            "officers",
        )

    @post(
        "/import/json",
        operation_id="importOfficersJson",
        summary="Import officers from JSON",
        status_code=200,
        responses=problem_responses(413, 422),
        operation_class=raw_body_operation("application/json", "A JSON array of planner Officer objects."),
    )
    async def import_json(self, conn: NamedDependency[AsyncConnection], body: RawBody) -> ImportReport:
        """Upserts by service number. Any bad item rejects the whole file (422 listing every bad item)."""
        return await run_import(
            conn,
            body,
            parse_officers_json,
            officer_values,
            OfficerRow.__table__,
            "service_number",
            OFFICER_FIELDS,
            "officers",
        )

    @get("/", operation_id="listOfficers", summary="List officers")
    async def list_officers(
        self,
        conn: NamedDependency[AsyncConnection],
        settings: NamedDependency[Settings],
        unit: Annotated[
            str | None, QueryParameter(name="unit", description="Borough ONS code or central unit")
        ] = None,
        rank: Annotated[Rank | None, QueryParameter(name="rank")] = None,
        duty_role: Annotated[DutyRole | None, QueryParameter(name="duty_role")] = None,
        skill: Annotated[
            str | None, QueryParameter(name="skill", description="Officers holding this skill")
        ] = None,
        limit: Annotated[int | None, LimitParam] = None,
        offset: Annotated[int | None, OffsetParam] = None,
        after: Annotated[
            str | None,
            QueryParameter(
                name="after",
                description="Keyset cursor: officers after this service number (use page.next_after; "
                "cheaper than a deep offset).",
            ),
        ] = None,
    ) -> OfficerPage:
        """Officers ordered by service number, filtered and paginated (by offset or by `after` cursor)."""
        limit, offset = page_bounds(settings, limit, offset)
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
            return OfficerPage(items=[officer_row_out(r) for r in rows], page=info)
        total = (
            await conn.execute(select(func.count()).select_from(query.order_by(None).subquery()))
        ).scalar_one()
        rows = list(await conn.execute(query.where(OfficerRow.service_number > after).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        info = PageInfo(
            total=total,
            limit=limit,
            offset=0,
            next_offset=None,
            next_after=rows[-1].service_number if more and rows else None,
        )
        return OfficerPage(items=[officer_row_out(r) for r in rows], page=info)

    @get(
        "/{service_number:str}",
        operation_id="getOfficer",
        summary="Read one officer",
        responses=problem_responses(404),
    )
    async def get_officer(
        self,
        conn: NamedDependency[AsyncConnection],
        service_number: Annotated[str, PathParameter(description="Service number")],
    ) -> OfficerOut:
        """One officer's record."""
        row = (
            await conn.execute(select(*OFFICER_COLUMNS).where(OfficerRow.service_number == service_number))
        ).first()
        if row is None:
            raise ProblemError(404, f"No officer {service_number!r}.")
        return officer_row_out(row)
