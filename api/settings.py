"""Service settings: small typed groups read from environment variables.

Every variable has a default that works on a fresh machine (an SQLite file under ./var)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

WorkerMode = Literal["embedded", "off"]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


DEFAULT_DATABASE_URL = "sqlite:///./var/planner.sqlite3"


def _split_driver(url: str) -> tuple[str, str]:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"DATABASE_URL is not a URL: {url!r}")
    return scheme.split("+", 1)[0].lower(), rest


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = DEFAULT_DATABASE_URL
    echo: bool = False
    # Per API process. A bounded read holds a connection for one statement only, so a small FIFO-queued
    # read pool serves a high request rate; writes, exports and analysis use the other pool (plus as
    # many again in overflow). Keep web processes x (read + 2 x pool) below the server's limit.
    pool_size: int = 5
    read_pool_size: int = 10

    @property
    def dialect(self) -> str:
        name, _ = _split_driver(self.url)
        return "postgresql" if name in {"postgres", "postgresql"} else name

    @property
    def async_url(self) -> str:
        """URL for the API's async engine (aiosqlite or psycopg 3)."""
        _, rest = _split_driver(self.url)
        if self.dialect == "sqlite":
            return f"sqlite+aiosqlite://{rest}"
        if self.dialect == "postgresql":
            return f"postgresql+psycopg://{rest}"
        raise ValueError(f"unsupported database: {self.url!r} (use sqlite:/// or postgresql://)")

    @property
    def sync_url(self) -> str:
        """URL for migrations and the worker's blocking engine."""
        _, rest = _split_driver(self.url)
        if self.dialect == "sqlite":
            return f"sqlite://{rest}"
        if self.dialect == "postgresql":
            return f"postgresql+psycopg://{rest}"
        raise ValueError(f"unsupported database: {self.url!r} (use sqlite:/// or postgresql://)")

    def ensure_directory(self) -> None:
        """Create the SQLite file's directory so that the first start just works."""
        if self.dialect != "sqlite":
            return
        _, rest = _split_driver(self.url)
        path = rest[1:] if rest.startswith("/") else rest  # sqlite:///relative or sqlite:////abs
        path = path.split("?", 1)[0]
        if not path or path == ":memory:":
            # each connection would get a database of its own: the API's writes, its reads and the
            # worker process must share one
            raise ValueError(f"DATABASE_URL {self.url!r}: use a SQLite file, not an in-memory database")
        Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def default_web_concurrency() -> int:
    """One API process per CPU this process may use (affinity and a cgroup CPU quota both count), at
    most 4: each process holds its own database pools and caches."""
    try:
        cpus = float(len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        cpus = float(os.cpu_count() or 1)
    quota = _cgroup_cpu_quota()
    if quota is not None:
        cpus = min(cpus, quota)
    return max(1, min(4, int(cpus)))


def _cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by a container's quota (cgroup v2 `cpu.max`, or v1), or None without one."""
    try:
        limit, period = (root / "cpu.max").read_text().split()[:2]
        return None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError):
        pass
    try:
        limit = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
        period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
        return None if int(limit) <= 0 else int(limit) / int(period)
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 32 * 1024 * 1024
    default_page_size: int = 100
    max_page_size: int = 1000
    key_cache_seconds: float = 5.0  # how long a verified API key is trusted without a DB read
    response_cache: bool = True  # cache GET responses keyed by the versions of the data they read
    version_ttl_seconds: float = 1.0  # how stale another process's writes may look to this one's cache
    web_concurrency: int = 1
    # How often the server looks for a newly finished plan to analyse ahead of the first request
    # (0: only on request). Off in bare Settings() so tests stay deterministic; on from the env.
    analysis_warm_seconds: float = 0.0


@dataclass(frozen=True)
class WorkerSettings:
    mode: WorkerMode = "embedded"
    poll_seconds: float = 0.5
    heartbeat_seconds: float = 1.0
    stale_seconds: float = 30.0  # a running job whose heartbeat is older is reclaimed
    max_attempts: int = 3
    solver: str = "solver:solve"  # module:function called in the child process
    solver_workers: int | None = None
    start_method: str = "fork"  # multiprocessing start method for the solve child
    # The solve (and its pool) runs at this niceness so that a long solve, which can use every core,
    # leaves the API processes first call on the CPU; alone on the machine it is not slowed.
    solve_niceness: int = 10


@dataclass(frozen=True)
class Settings:
    db: DatabaseSettings = field(default_factory=DatabaseSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    load_demo: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        workers = _env("PLANNER_SOLVER_WORKERS", "")
        mode = _env("PLANNER_WORKER", "embedded")
        web_concurrency = _env_int("PLANNER_WEB_CONCURRENCY", default_web_concurrency())
        if mode not in ("embedded", "off"):
            raise ValueError("PLANNER_WORKER must be 'embedded' or 'off'")
        return cls(
            db=DatabaseSettings(
                url=_env("DATABASE_URL", DEFAULT_DATABASE_URL),
                echo=_env_bool("DATABASE_ECHO", False),
                pool_size=_env_int("DATABASE_POOL_SIZE", 5),
                read_pool_size=_env_int("DATABASE_READ_POOL_SIZE", 10),
            ),
            server=ServerSettings(
                host=_env("PLANNER_HOST", "127.0.0.1"),
                port=_env_int("PLANNER_PORT", 8000),
                max_body_bytes=_env_int("PLANNER_MAX_BODY_BYTES", 32 * 1024 * 1024),
                default_page_size=_env_int("PLANNER_DEFAULT_PAGE_SIZE", 100),
                max_page_size=_env_int("PLANNER_MAX_PAGE_SIZE", 1000),
                key_cache_seconds=_env_float("PLANNER_KEY_CACHE_SECONDS", 5.0),
                response_cache=_env_bool("PLANNER_RESPONSE_CACHE", True),
                # several processes: each request checks the versions, so that a client reads its
                # own writes whichever process answers
                version_ttl_seconds=_env_float(
                    "PLANNER_VERSION_TTL_SECONDS", 1.0 if web_concurrency == 1 else 0.0
                ),
                web_concurrency=web_concurrency,
                analysis_warm_seconds=_env_float("PLANNER_ANALYSIS_WARM_SECONDS", 10.0),
            ),
            worker=WorkerSettings(
                mode=mode,  # type: ignore[arg-type]
                poll_seconds=_env_float("PLANNER_WORKER_POLL_SECONDS", 0.5),
                heartbeat_seconds=_env_float("PLANNER_HEARTBEAT_SECONDS", 1.0),
                stale_seconds=_env_float("PLANNER_JOB_STALE_SECONDS", 30.0),
                max_attempts=_env_int("PLANNER_JOB_MAX_ATTEMPTS", 3),
                solver=_env("PLANNER_SOLVER", "solver:solve"),
                solver_workers=int(workers) if workers else None,
                start_method=_env("PLANNER_SOLVE_START_METHOD", "fork"),
                solve_niceness=_env_int("PLANNER_SOLVE_NICENESS", 10),
            ),
            load_demo=_env_bool("PLANNER_LOAD_DEMO", False),
        )

    def with_database(self, url: str) -> Settings:
        return replace(self, db=replace(self.db, url=url))
