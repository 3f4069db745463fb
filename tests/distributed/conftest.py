"""A real Dask cluster for the module: a `dask scheduler` and two one-thread `dask worker`
processes on 127.0.0.1, killed when the module's tests are done."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("distributed")

from bench.cluster import Cluster  # noqa: E402


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(workers=2, nthreads=1) as running:
        yield running
