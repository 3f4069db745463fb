"""A frontier through the Dask cluster returns the points a local process pool returns."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from distributed import Client

from bench.cluster import Cluster
from planner.domain import PlanningProblem
from solver.dask_executor import SCHEDULER_ENV
from solver.frontier import Frontier, frontier
from tests.distributed.conftest import WORKERS

SHARES = (0.6, 0.8, 1.0)


def figures(result: Frontier) -> list[dict[str, object]]:
    """Each point without its timing (the only field allowed to differ)."""
    return [{k: v for k, v in msgspec.structs.asdict(p).items() if k != "seconds"} for p in result.points]


@pytest.mark.parametrize("detail", ["allocation", "named"])
def test_a_frontier_through_dask_has_the_local_points(
    cluster: Cluster, instance: PlanningProblem, detail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    here = frontier(instance, SHARES, detail=detail, processes=WORKERS)
    monkeypatch.setenv(SCHEDULER_ENV, cluster.address)
    there = frontier(instance, SHARES, detail=detail, processes=WORKERS)
    assert len(here.points) == len(SHARES)
    assert figures(there) == figures(here)
    task = "sweep_worker" if detail == "allocation" else "run_point"
    with Client(cluster.address, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        assert client.run_on_scheduler(_ran, task) > 0  # the points were computed on the cluster


def _ran(task: str, dask_scheduler: Any) -> int:
    """Tasks of this kind the cluster's workers have finished."""
    prefix = dask_scheduler.task_prefixes.get(task)
    return len(prefix.all_durations) if prefix is not None else 0
