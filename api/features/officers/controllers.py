"""Officers: bulk import (CSV, JSON) upserting by service number; list, filter, read. Planner role only:
officer records are personal data."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter, RawBody
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import allow
from api.db.engine import Reader
from api.features.common import LimitParam, OffsetParam, page_bounds, problem_responses
from api.features.imports_common import ImportReport
from api.features.officers import services
from api.features.officers.schemas import OfficerOut, OfficerPage
from api.imports import parse_officers_csv, parse_officers_json
from api.openapi import raw_body_operation
from api.settings import Settings
from planner.domain import DutyRole, Rank

CSV_EXAMPLE = (
    "service_number,name,unit,rank,duty_role,skills,shift_pattern,pattern_offset,leave\n"
    "MP100001,Alex Smith,E09000033,PC,response,PO_L2;DRIVER,response,3,2027-08-01/2027-08-14\n"
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
        return await services.import_officers(conn, body, parse_officers_csv)

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
        return await services.import_officers(conn, body, parse_officers_json)

    @get("/", operation_id="listOfficers", summary="List officers")
    async def list_officers(
        self,
        reader: NamedDependency[Reader],
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
                description="Keyset cursor: officers after this service number (use page.next_after). "
                "Its cost does not grow with the depth of the page; for the same reason its pages "
                "carry no total (page.total is null): the first page's total stands.",
            ),
        ] = None,
    ) -> OfficerPage:
        """Officers ordered by service number, filtered and paginated (by offset or by `after` cursor)."""
        limit, offset = page_bounds(settings, limit, offset)
        return await services.list_officers(
            reader,
            unit=unit,
            rank=rank,
            duty_role=duty_role,
            skill=skill,
            limit=limit,
            offset=offset,
            after=after,
        )

    @get(
        "/{service_number:str}",
        operation_id="getOfficer",
        summary="Read one officer",
        responses=problem_responses(404),
    )
    async def get_officer(
        self,
        reader: NamedDependency[Reader],
        service_number: Annotated[str, PathParameter(description="Service number")],
    ) -> OfficerOut:
        """One officer's record."""
        return await services.get_officer(reader, service_number)
