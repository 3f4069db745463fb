"""A real Dask cluster for the package's tests: a `dask scheduler` and two one-thread `dask worker`
processes on 127.0.0.1, killed when they are done; the multi-week instance and its plan on the
local pool, which every plan through Dask must equal."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

pytest.importorskip("distributed")

from bench.cluster import Cluster  # noqa: E402
from planner.domain import PlanningProblem  # noqa: E402
from planner.plan import Plan  # noqa: E402
from solver import solve  # noqa: E402
from solver.dask_executor import SCHEDULER_ENV  # noqa: E402
from tests.distributed.instance import multi_week  # noqa: E402

WORKERS = 2


@pytest.fixture(scope="package")
def cluster() -> Iterator[Cluster]:
    with Cluster(workers=2, nthreads=1) as running:
        yield running


@pytest.fixture(scope="package")
def instance() -> PlanningProblem:
    return multi_week(weeks=6, scale=5)


@pytest.fixture(scope="package")
def local_plan(instance: PlanningProblem) -> Plan:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(SCHEDULER_ENV, raising=False)
        return solve(instance, workers=WORKERS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
