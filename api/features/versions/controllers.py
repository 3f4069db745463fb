"""Published plans and their versions: publish, re-plan (least disruption), diff, notification list,
change log, assignments of a version, recommendations, pins; officer absences.

Thin: the work runs in `services` on a worker thread (it is CPU-bound), so the event loop only
waits. Names and service numbers are for planners and schedulers; analysts see version summaries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import anyio.to_thread
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import Body, HeaderParameter, PathParameter, QueryParameter

from api.auth import allow, principal
from api.features.common import (
    LimitParam,
    OffsetParam,
    csv_response,
    page_bounds,
    problem_responses,
)
from api.features.versions import services
from api.features.versions.schemas import (
    AbsenceIn,
    AbsenceOut,
    AssignmentPage,
    ChangePage,
    DiffOut,
    NotificationList,
    PinIn,
    PinList,
    PinOut,
    PublishRequest,
    RecommendationOut,
    ReplanRequest,
    VersionList,
    VersionOut,
)
from api.problems import ProblemError
from api.settings import Settings

RUN = allow("planner", "scheduler")
READ = allow("planner", "scheduler", "analyst")
NAMED = allow("planner", "scheduler")

PlanId = Annotated[
    str, PathParameter(description="The published plan's id (its plan job's id)", max_length=36)
]
Number = Annotated[int, PathParameter(description="Version number (1 = as published)", ge=1, le=2**31 - 1)]
PinId = Annotated[int, PathParameter(description="Pin id", ge=1, le=2**53 - 1)]
ServiceNumber = Annotated[str, PathParameter(description="Service number", max_length=32)]
FromDay = Annotated[dt.date | None, QueryParameter(name="from", description="First day (inclusive)")]
ToDay = Annotated[dt.date | None, QueryParameter(name="to", description="Last day (inclusive)")]
Officer = Annotated[
    str | None, QueryParameter(name="service_number", description="One officer", max_length=32)
]
EventFilter = Annotated[str | None, QueryParameter(name="event_id", description="One event", max_length=200)]
Limit = Annotated[int | None, LimitParam]
Offset = Annotated[int | None, OffsetParam]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=200,
        description="A retry with the same key and body gets the version the first request made (200), never a second one.",
    ),
]
Settings_ = NamedDependency[Settings]


def _svc(settings: Settings) -> services.VersionService:
    return services.service_for(settings.db)


class VersionController(Controller):
    path = "/plans/{plan_id:str}"
    tags = ["versions"]
    responses = problem_responses(400, 401, 403, 404)

    @post(
        "/publish",
        operation_id="publishPlan",
        summary="Publish a stored plan (version 1)",
        guards=[RUN],
        status_code=201,
        responses=problem_responses(409, 422),
    )
    async def publish(
        self, request: Request, settings: Settings_, plan_id: PlanId, data: Annotated[PublishRequest, Body()]
    ) -> VersionOut:
        key = principal(request).key_id
        return await anyio.to_thread.run_sync(services.publish, _svc(settings), plan_id, data, key)

    @get("/versions", operation_id="listVersions", summary="Versions of a published plan", guards=[READ])
    async def versions(self, settings: Settings_, plan_id: PlanId) -> VersionList:
        return await anyio.to_thread.run_sync(services.list_versions, _svc(settings), plan_id)

    @get("/versions/{number:int}", operation_id="getVersion", summary="One version", guards=[READ])
    async def version(self, settings: Settings_, plan_id: PlanId, number: Number) -> VersionOut:
        return await anyio.to_thread.run_sync(services.get_version, _svc(settings), plan_id, number)

    @post(
        "/versions/{number:int}/replan",
        operation_id="replanVersion",
        summary="Re-plan the latest version for every input change since it (least disruption)",
        description=(
            "Answers the events, demand, absences and leave that changed since the version, moving as few "
            "notified duties as the change needs, priced by the regulations. 201 with the new version; 200 "
            "with the earlier answer for a repeated Idempotency-Key; 409 if the version is not the latest "
            "(the detail names it) or the inputs changed in a way a re-plan does not answer (officers added "
            "or removed, a new policy: submit a new plan)."
        ),
        guards=[RUN],
        status_code=201,
        responses=problem_responses(409, 422),
    )
    async def replan(
        self,
        request: Request,
        settings: Settings_,
        plan_id: PlanId,
        number: Number,
        data: Annotated[ReplanRequest, Body()],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[VersionOut]:
        key = principal(request).key_id
        version, created = await anyio.to_thread.run_sync(
            services.replan_version, _svc(settings), plan_id, number, data, key, idempotency_key
        )
        return Response(version, status_code=201 if created else 200)

    @get(
        "/versions/{number:int}/diff",
        operation_id="versionDiff",
        summary="What a version changed: per officer-day and per event tour",
        guards=[NAMED],
    )
    async def diff(self, settings: Settings_, plan_id: PlanId, number: Number) -> DiffOut:
        return await anyio.to_thread.run_sync(services.diff, _svc(settings), plan_id, number)

    @get(
        "/versions/{number:int}/notifications",
        operation_id="versionNotifications",
        summary="Change-of-duty notification list: one row per officer to be told",
        guards=[NAMED],
    )
    async def notifications(self, settings: Settings_, plan_id: PlanId, number: Number) -> NotificationList:
        return await anyio.to_thread.run_sync(services.notifications, _svc(settings), plan_id, number)

    @get(
        "/versions/{number:int}/notifications.csv",
        operation_id="versionNotificationsCsv",
        summary="The notification list as CSV (for a duty-management system)",
        guards=[NAMED],
        media_type="text/csv",
    )
    async def notifications_csv(
        self, settings: Settings_, plan_id: PlanId, number: Number
    ) -> Response[bytes]:
        listing = await anyio.to_thread.run_sync(services.notifications, _svc(settings), plan_id, number)
        return csv_response(
            services.NOTIFICATION_HEADER,
            services.notification_rows(listing),
            f"notifications-{plan_id}-v{number}.csv",
        )

    @get(
        "/changes",
        operation_id="changeLog",
        summary="The change log of a published plan, by date range, officer and event",
        guards=[NAMED],
    )
    async def changes(
        self,
        settings: Settings_,
        plan_id: PlanId,
        first: FromDay = None,
        last: ToDay = None,
        service_number: Officer = None,
        event_id: EventFilter = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> ChangePage:
        size, skip = page_bounds(settings, limit, offset)
        return await anyio.to_thread.run_sync(
            services.change_log, _svc(settings), plan_id, first, last, service_number, event_id, size, skip
        )

    @get(
        "/versions/{number:int}/assignments",
        operation_id="versionAssignments",
        summary="Named assignments of one version",
        guards=[NAMED],
    )
    async def assignments(
        self,
        settings: Settings_,
        plan_id: PlanId,
        number: Number,
        service_number: Officer = None,
        event_id: EventFilter = None,
        first: FromDay = None,
        last: ToDay = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> AssignmentPage:
        size, skip = page_bounds(settings, limit, offset)
        return await anyio.to_thread.run_sync(
            services.assignments,
            _svc(settings),
            plan_id,
            number,
            service_number,
            event_id,
            first,
            last,
            size,
            skip,
        )

    @get(
        "/versions/{number:int}/recommendations",
        operation_id="versionRecommendations",
        summary="Officers who could fill a post of an event tour, cheapest first, and why others cannot",
        guards=[NAMED],
        responses=problem_responses(422),
    )
    async def recommendations(
        self,
        settings: Settings_,
        plan_id: PlanId,
        number: Number,
        event_id: Annotated[str, QueryParameter(name="event_id", max_length=200, description="Event")],
        role: Annotated[str, QueryParameter(name="role", max_length=32, description="Deployable role")],
        tour_index: Annotated[
            int, QueryParameter(name="tour_index", ge=0, le=10_000, description="Tour")
        ] = 0,
        k: Annotated[int, QueryParameter(name="k", ge=1, le=100, description="How many")] = 10,
    ) -> RecommendationOut:
        return await anyio.to_thread.run_sync(
            services.recommendations, _svc(settings), plan_id, number, event_id, tour_index, role, k
        )

    @post(
        "/pins",
        operation_id="addPin",
        summary="Pin an event, a tour or one officer on it",
        guards=[RUN],
        status_code=201,
    )
    async def add_pin(
        self, request: Request, settings: Settings_, plan_id: PlanId, data: Annotated[PinIn, Body()]
    ) -> PinOut:
        key = principal(request).key_id
        return await anyio.to_thread.run_sync(services.add_pin, _svc(settings), plan_id, data, key)

    @get("/pins", operation_id="listPins", summary="Pins of a published plan", guards=[NAMED])
    async def pins(self, settings: Settings_, plan_id: PlanId) -> PinList:
        return await anyio.to_thread.run_sync(services.list_pins, _svc(settings), plan_id)

    @delete(
        "/pins/{pin_id:int}", operation_id="removePin", summary="Remove a pin", guards=[RUN], status_code=204
    )
    async def remove_pin(self, settings: Settings_, plan_id: PlanId, pin_id: PinId) -> None:
        await anyio.to_thread.run_sync(services.remove_pin, _svc(settings), plan_id, pin_id)


class AbsenceController(Controller):
    path = "/officers/{service_number:str}/absences"
    tags = ["officers"]
    responses = problem_responses(400, 401, 403, 404)

    @post(
        "/",
        operation_id="addAbsence",
        summary="Record an officer unavailable for dates (sickness, court, leave granted)",
        description="The dates join the officer's leave, which every later plan and re-plan reads.",
        guards=[RUN],
        status_code=201,
        responses=problem_responses(422),
    )
    async def add(
        self,
        request: Request,
        settings: Settings_,
        service_number: ServiceNumber,
        data: Annotated[AbsenceIn, Body()],
    ) -> AbsenceOut:
        key = principal(request).key_id
        return await anyio.to_thread.run_sync(services.add_absence, _svc(settings), service_number, data, key)


__all__ = ["AbsenceController", "ProblemError", "VersionController"]
