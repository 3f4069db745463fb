"""The app factory: one place that wires settings, storage, auth, error handling, OpenAPI and features."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute

from api.auth import ApiKeyMiddleware, KeyCache, is_public
from api.cache import ResponseCache, ResponseCacheMiddleware
from api.db.engine import make_async_engine, make_reader
from api.features.analysis.controllers import AnalysisController, DashboardController
from api.features.common import (
    provide_connection,
    provide_reader,
    provide_settings,
    refuse_unreadable_input,
)
from api.features.events.controllers import EventController
from api.features.health.controllers import HealthController, IndexController
from api.features.keys.controllers import KeyController
from api.features.officers.controllers import OfficerController
from api.features.plans.controllers import PlanController
from api.features.policy.controllers import PolicyController
from api.features.reference.controllers import DeployableRoleController, ReferenceController
from api.features.versions.controllers import AbsenceController, VersionController
from api.features.warmup import warm_read_paths
from api.openapi import SafeStructSchemaPlugin, contract_plugin_hook, register_contract_plugin
from api.problems import EXCEPTION_HANDLERS
from api.settings import Settings

log = logging.getLogger("api")

CONTROLLERS = [
    IndexController,
    HealthController,
    ReferenceController,
    DeployableRoleController,
    KeyController,
    OfficerController,
    EventController,
    PolicyController,
    PlanController,
    VersionController,
    AbsenceController,
    AnalysisController,
    DashboardController,
]


async def _warm_analysis(engine: Any, every_seconds: float) -> None:
    """Analyse each newly finished plan in the background (see analysis.services)."""
    from api.features.analysis.services import warm_newest_plan

    while True:
        try:
            await warm_newest_plan(engine)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed warm-up only means the first request does the work
            log.exception("analysis warm-up failed")
        await asyncio.sleep(every_seconds)


def _check_guards(app: Litestar) -> None:
    """Deny by default: every route except the public ones must name its roles."""
    for route in app.routes:
        if is_public(route.path):
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or handler.http_methods == {"OPTIONS"}:
                continue  # Litestar's automatic OPTIONS handlers (the key middleware still applies)
            if not handler.resolve_guards():
                raise RuntimeError(f"route {route.path} has no guard; every endpoint must name its roles")


def _finish_routes(app: Litestar) -> None:
    """Two things Litestar 2.25 leaves undone, for every route:

    - a controller's `responses` (the Problem Details its routes share) is not applied to its
      handlers: merge it into each handler's own (the handler's entries win);
    - the automatic OPTIONS answer lists only the methods of the first handler registered on a path
      (its `Allow` reads the route object that later handlers replaced): point it at the route the
      path has now, so `Allow` names every method."""
    controllers = {c.__name__: c for c in CONTROLLERS}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            owner = controllers.get(handler.fn.__qualname__.split(".")[0])
            shared = getattr(owner, "responses", None) or {}
            if shared:
                handler.responses = {**shared, **(handler.responses or {})}
            if handler.http_methods == {"OPTIONS"} and handler.fn.__name__ == "options_handler":
                for cell in handler.fn.__closure__ or ():
                    if isinstance(cell.cell_contents, HTTPRoute):
                        cell.cell_contents = route


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> Litestar:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        if migrate:
            import anyio.to_thread

            from api.db.migrate import migrate as run_migrations

            await anyio.to_thread.run_sync(run_migrations, settings.db)
        engine = make_async_engine(settings.db)
        app.state.engine = engine
        app.state.reader = make_reader(settings.db)
        await warm_read_paths(app.state.reader)
        gc.freeze()  # long-lived startup objects out of the collector's way: shorter GC pauses
        warmer = (
            asyncio.create_task(_warm_analysis(engine, settings.server.analysis_warm_seconds))
            if settings.server.analysis_warm_seconds > 0
            else None
        )
        try:
            yield
        finally:
            if warmer is not None:
                warmer.cancel()
            await engine.dispose()
            await app.state.reader.dispose()

    app = Litestar(
        route_handlers=CONTROLLERS,
        dependencies={
            "conn": Provide(provide_connection),
            "reader": Provide(provide_reader, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        middleware=[
            DefineMiddleware(ApiKeyMiddleware, exclude=[r"^/$", r"^/health", r"^/schema", r"^/dashboard"]),
            ResponseCacheMiddleware,  # after the key check: only authenticated requests reach it
        ],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_request=refuse_unreadable_input,
        lifespan=[lifespan],
        on_app_init=[contract_plugin_hook],
        request_max_body_size=settings.server.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Met event deployment planner",
            version="0.1.0",
            description=(
                "Plans police event deployments across London while keeping each borough's investigation "
                "capacity. Every endpoint except /health and /schema needs an API key in `X-API-Key`. "
                "Errors are RFC 9457 Problem Details (`application/problem+json`); timestamps are RFC 3339 "
                "with an offset (event times carry London's)."
            ),
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            components=Components(
                security_schemes={
                    "ApiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header")
                }
            ),
            security=[{"ApiKey": []}],
            use_handler_docstrings=True,
        ),
        plugins=[SafeStructSchemaPlugin()],
        debug=False,
        state=State(
            {
                "settings": settings,
                "key_cache": KeyCache(settings.server.key_cache_seconds),
                "response_cache": (
                    ResponseCache(version_ttl=settings.server.version_ttl_seconds)
                    if settings.server.response_cache
                    else None
                ),
            }
        ),
    )
    register_contract_plugin(app)
    _finish_routes(app)
    _check_guards(app)
    return app


def app_from_env() -> Litestar:
    """Factory for `uvicorn --factory api.app:app_from_env` (migrations are run by `planner serve`)."""
    return create_app(Settings.from_env(), migrate=False)


__all__: list[Any] = ["create_app", "app_from_env"]
