"""Analyst trade-offs: investigation impact, explanations, per-rule analysis, comparison, what-if,
the floor frontier (a durable job), and the dashboard page that draws them.

Every analysis endpoint is for planners, schedulers and analysts. Only the event drill-down lists
officers, and it withholds service numbers and names from analysts. The dashboard page itself is
public (it holds no data); it asks for a key and sends it as `X-API-Key` on every data request."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import Body, PathParameter, QueryParameter
from msgspec import Meta
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import allow, principal
from api.features.analysis import services
from api.features.analysis.schemas import (
    EventDrillDown,
    ExplanationPage,
    FrontierOut,
    FrontierPage,
    FrontierRequest,
    Heatmap,
    Overview,
    WhatIfRequest,
)
from api.features.common import EventIdPath, OffsetParam, bounded_query, event_id, problem_responses
from api.problems import ProblemError
from planner.analysis.compare import Comparison
from planner.analysis.explain import RuleImpact
from planner.analysis.impact import Impact
from solver.whatif import WhatIfResult

READ = allow("planner", "scheduler", "analyst")
STATIC = Path(__file__).parent / "static"
JSON = "application/json"

PlanId = Annotated[str, PathParameter(description="A plan job's id (from POST /plans)")]
# `<borough code>:<crimes a year>`, e.g. `E09000033:41000` (services.impact_settings reads it)
CRIME_PATTERN = r"^[A-Za-z0-9]+:[0-9]{1,9}(\.[0-9]{1,6})?$"
CrimeOverride = Annotated[str, Meta(pattern=CRIME_PATTERN)]


def _json(body: bytes) -> Response[bytes]:
    return Response(body, media_type=JSON)


def _encoded_as(schema: type) -> dict[int, ResponseSpec]:
    """The 200 of a handler that sends a body it encoded once and cached (Response[bytes]): the
    document names the object the bytes are."""
    return {200: ResponseSpec(data_container=schema, description="Request fulfilled", media_type=JSON)}


class AnalysisController(Controller):
    path = "/analysis"
    tags = ["analysis"]
    guards = [READ]
    responses = problem_responses(400, 401, 403, 404, 409)

    # ---------------------------------------------------------------- one plan

    @get(
        "/plans/{job_id:str}/overview",
        operation_id="getPlanOverview",
        summary="The year at a glance",
        responses=_encoded_as(Overview),
    )
    async def overview(self, conn: NamedDependency[AsyncConnection], job_id: PlanId) -> Response[bytes]:
        """Headline figures, demand/coverage/abstraction per day, and the events left short (worst first)."""
        context = await services.CACHE.get(conn, job_id)
        return _json(services.encoded(context, "overview", lambda: services.overview(context)))

    @get(
        "/plans/{job_id:str}/heatmap",
        operation_id="getPlanHeatmap",
        summary="Borough x week heatmap",
        responses=_encoded_as(Heatmap),
    )
    async def heatmap(
        self,
        conn: NamedDependency[AsyncConnection],
        job_id: PlanId,
        metric: Annotated[
            str,
            QueryParameter(
                description="`abstraction` (officers on events / on duty) or `retained` "
                "(investigators retained / rostered)",
                pattern="^(abstraction|retained)$",
                required=False,
            ),
        ] = "abstraction",
    ) -> Response[bytes]:
        """Weekly shares per borough, for the heatmaps."""
        context = await services.CACHE.get(conn, job_id)
        return _json(
            services.encoded(context, ("heatmap", metric), lambda: services.heatmap(context, metric))
        )

    @get(
        "/plans/{job_id:str}/impact",
        operation_id="getInvestigationImpact",
        summary="Investigation impact",
        responses=_encoded_as(Impact),
    )
    async def impact(
        self,
        conn: NamedDependency[AsyncConnection],
        job_id: PlanId,
        share: Annotated[
            float | None,
            bounded_query(ge=0, le=1, required=False, description="Share of crimes needing an investigator"),
        ] = None,
        rate: Annotated[
            float | None,
            bounded_query(
                gt=0, le=100, required=False, description="New crimes one investigator takes on per day"
            ),
        ] = None,
        threshold: Annotated[
            float | None,
            bounded_query(
                ge=0, le=3650, required=False, description="Delay (days) past which a day is named"
            ),
        ] = None,
        crime: Annotated[
            list[CrimeOverride] | None,
            QueryParameter(
                required=False,
                # the items' pattern (Litestar 2.25 leaves it out of an array parameter's document)
                schema_extra={"items": Schema(type=OpenAPIType.STRING, pattern=CRIME_PATTERN)},
                description="Override yearly crime: `<borough code>:<crimes a year>`, repeatable",
            ),
        ] = None,
        series: Annotated[
            bool, QueryParameter(required=False, description="Include the day-by-day lists (default true)")
        ] = True,
    ) -> Response[bytes]:
        """Crime intake, backlog and allocation delay per borough and BCU, with the plan and with no
        abstraction, and the (day, borough) pairs the plan pushes past the delay threshold."""
        context = await services.CACHE.get(conn, job_id)
        settings = services.impact_settings(share, rate, threshold, crime)

        def make() -> object:
            result = services.impact(context, settings)
            return result if series else services.without_series(result)

        if settings is None:
            return _json(services.encoded(context, ("impact", series), make))
        return _json(services.msgspec_encode(make()))

    @get(
        "/plans/{job_id:str}/explanations", operation_id="getPlanExplanations", summary="Why events are short"
    )
    async def explanations(
        self,
        conn: NamedDependency[AsyncConnection],
        job_id: PlanId,
        event_id: Annotated[str | None, QueryParameter(required=False, description="Only this event")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000, required=False)] = 100,
        offset: Annotated[int, OffsetParam] = 0,
    ) -> ExplanationPage:
        """For every short event tour and role: the limits that bind, in words and numbers."""
        context = await services.CACHE.get(conn, job_id)
        items = context.explanations
        if event_id is not None:
            items = [x for x in items if x.event_id == event_id]
        return ExplanationPage(total=len(items), items=items[offset : offset + limit])

    @get("/plans/{job_id:str}/rules", operation_id="getPlanRuleAnalysis", summary="Per-rule analysis")
    async def rules(self, conn: NamedDependency[AsyncConnection], job_id: PlanId) -> list[RuleImpact]:
        """For each named rule: what it costs or constrains, and the events and boroughs it affects most."""
        return (await services.CACHE.get(conn, job_id)).rules

    @get(
        "/plans/{job_id:str}/events/{event_path:path}",
        operation_id="getEventDrillDown",
        summary="One event: coverage, explanation, assignments",
    )
    async def event(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[AsyncConnection],
        job_id: PlanId,
        event_path: EventIdPath,
    ) -> EventDrillDown:
        """Coverage per tour, why it is short, and who is deployed (names withheld from analysts)."""
        context = await services.CACHE.get(conn, job_id)
        return services.drill_down(
            context, event_id(request, event_path), show_names=principal(request).role != "analyst"
        )

    @post(
        "/plans/{job_id:str}/what-if",
        operation_id="runWhatIf",
        summary="What if one event's demand or one borough's floor changed",
        status_code=200,
        responses=problem_responses(422),
    )
    async def what_if(
        self,
        conn: NamedDependency[AsyncConnection],
        job_id: PlanId,
        data: Annotated[WhatIfRequest, Body(title="One change")],
    ) -> WhatIfResult:
        """Re-plans only the days the change affects (nothing is stored) and compares with the plan."""
        context = await services.CACHE.get(conn, job_id)
        return await services.run_what_if(context, data)

    # ---------------------------------------------------------------- two plans

    @get(
        "/compare/{job_id:str}/{other_id:str}",
        operation_id="comparePlans",
        summary="Two plans side by side",
    )
    async def compare(
        self,
        conn: NamedDependency[AsyncConnection],
        job_id: PlanId,
        other_id: Annotated[str, PathParameter(description="The plan compared with the first (B)")],
    ) -> Comparison:
        """Headline figures and per-borough / per-BCU totals of both plans, with deltas (B - A)."""
        a = await services.CACHE.get(conn, job_id)
        b = await services.CACHE.get(conn, other_id)
        if a.problem.organisation != b.problem.organisation:
            raise ProblemError(422, "The plans use different organisations and cannot be compared.")
        return services.comparison(a, b)

    # ---------------------------------------------------------------- frontier jobs

    @post(
        "/frontiers",
        operation_id="submitFrontier",
        summary="Sweep the investigation floor (a durable job)",
        status_code=202,
        responses=problem_responses(422),
    )
    async def submit_frontier(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[AsyncConnection],
        data: Annotated[FrontierRequest, Body(title="Frontier request")],
    ) -> Response[FrontierOut]:
        """Queues a frontier job: six floors (50% to 100% of rostered investigators), each planned
        independently in parallel processes. Poll it at the `Location`; cancel it with DELETE /plans/{id}."""
        out = await services.submit_frontier(conn, data, principal(request).key_id)
        return Response(out, status_code=202, headers={"Location": f"/analysis/frontiers/{out.job.id}"})

    @get("/frontiers", operation_id="listFrontiers", summary="Recent frontier jobs")
    async def list_frontiers(
        self,
        conn: NamedDependency[AsyncConnection],
        limit: Annotated[int, QueryParameter(ge=1, le=100, required=False)] = 20,
    ) -> FrontierPage:
        """Newest first, each with its points when finished."""
        return FrontierPage(items=await services.list_frontiers(conn, limit))

    @get("/frontiers/{frontier_id:str}", operation_id="getFrontier", summary="A frontier job and its points")
    async def get_frontier(
        self,
        conn: NamedDependency[AsyncConnection],
        frontier_id: Annotated[str, PathParameter(description="The frontier job's id")],
    ) -> FrontierOut:
        """Status and progress while it runs; one point per floor share once it has succeeded."""
        return await services.get_frontier(conn, frontier_id)


class DashboardController(Controller):
    """The analyst dashboard: static HTML and JavaScript, no build step, no external resources."""

    path = "/dashboard"
    tags = ["dashboard"]
    include_in_schema = False

    @get("/", media_type="text/html", guards=[], include_in_schema=False)
    async def page(self) -> Response[bytes]:
        return Response((STATIC / "index.html").read_bytes(), media_type="text/html; charset=utf-8")

    @get("/{name:str}", guards=[], include_in_schema=False)
    async def asset(
        self, name: Annotated[str, PathParameter(description="A dashboard file")]
    ) -> Response[bytes]:
        types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
        path = STATIC / name
        if name.startswith(".") or "/" in name or path.suffix not in types or not path.is_file():
            raise ProblemError(404, f"No dashboard file {name!r}.")
        return Response(path.read_bytes(), media_type=types[path.suffix])
