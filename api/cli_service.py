"""`planner serve`, `planner worker` and `planner create-admin-key` (owned by the service layer)."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the service subcommands."""
    serve = sub.add_parser("serve", help="run the API (and, by default, a plan worker process)")
    serve.add_argument("--host", default=None, help="bind address (default PLANNER_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default PLANNER_PORT or 8000)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load the demo London year (calendar, officers, policy) if the database has no events",
    )
    serve.add_argument(
        "--no-worker", action="store_true", help="do not start a worker (same as PLANNER_WORKER=off)"
    )
    serve.set_defaults(handler=_serve)

    worker = sub.add_parser("worker", help="run a plan worker on its own (jobs from the same database)")
    worker.set_defaults(handler=_worker)
    for command in (serve, worker):
        command.add_argument(
            "--dask",
            metavar="ADDR",
            default=None,
            help="the plan worker solves on the Dask scheduler at ADDR (same as PLANNER_DASK_SCHEDULER)",
        )

    key = sub.add_parser("create-admin-key", help="create an admin API key and print it once")
    key.add_argument("--label", default="created by planner create-admin-key")
    key.add_argument(
        "--role",
        default="admin",
        choices=("admin", "planner", "scheduler", "analyst"),
        help="role of the new key (default admin)",
    )
    key.set_defaults(handler=_create_key)


def _logging() -> None:
    logging.basicConfig(
        level=os.environ.get("PLANNER_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def _use_dask(args: argparse.Namespace) -> None:
    """The solves of this process and of the worker it starts go to the scheduler at --dask."""
    if args.dask:
        os.environ["PLANNER_DASK_SCHEDULER"] = args.dask


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.db.migrate import migrate
    from api.settings import Settings

    _logging()
    _use_dask(args)
    settings = Settings.from_env()
    migrate(settings.db)
    if args.demo or settings.load_demo:
        from api.demo import load_demo

        load_demo(settings)
    _hint_first_key(settings)
    worker: subprocess.Popen[bytes] | None = None
    if settings.worker.mode == "embedded" and not args.no_worker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker"], env=os.environ.copy(), preexec_fn=_stop_with_parent
        )
        logging.getLogger("api").info("started plan worker (pid %d)", worker.pid)
    try:
        uvicorn.run(
            "api.app:app_from_env",
            factory=True,
            host=args.host or settings.server.host,
            port=args.port or settings.server.port,
            workers=settings.server.web_concurrency,
            log_level=os.environ.get("PLANNER_LOG_LEVEL", "info").lower(),
            access_log=False,
        )
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def _hint_first_key(settings: object) -> None:
    """On a database without any active key, say how to make the first one (there is no default key)."""
    from sqlalchemy import func, select

    from api.db.engine import make_sync_engine
    from api.db.models import ApiKey

    engine = make_sync_engine(settings.db, pooled=False)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        keys = conn.execute(
            select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))
        ).scalar_one()
    engine.dispose()
    if not keys:
        logging.getLogger("api").warning(
            "no API keys yet: every endpoint except /health and /schema needs one; "
            "run `planner create-admin-key` (and `--role planner` for a planner key)"
        )


def _stop_with_parent() -> None:
    """In the worker child (Linux): SIGTERM when `planner serve` exits, however it exits (uvicorn
    re-raises the signal it stopped on, so a `finally` in serve does not always run)."""
    import contextlib
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _worker(args: argparse.Namespace) -> int:
    import signal

    # Stop requests that land while the worker is still importing or migrating are kept, not lost
    # to the default handler (which would end the process with -SIGTERM mid-migration).
    stop_requested: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop_requested.append(signum))

    from api.jobs import run_worker
    from api.settings import Settings

    _logging()
    _use_dask(args)
    return run_worker(Settings.from_env(), stop_requested=lambda: bool(stop_requested))


def _create_key(args: argparse.Namespace) -> int:
    from api.auth import insert_key_statement
    from api.db.engine import make_sync_engine
    from api.db.migrate import migrate
    from api.settings import Settings

    settings = Settings.from_env()
    migrate(settings.db)
    full, key_id, stmt = insert_key_statement(args.role, args.label)
    engine = make_sync_engine(settings.db, pooled=False)
    with engine.begin() as conn:
        conn.execute(stmt)
    engine.dispose()
    print(full)
    print(f"(key id {key_id}, role {args.role}; store it now: it is not shown again)", file=sys.stderr)
    return 0
