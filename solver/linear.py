"""A small sparse linear-model builder over OR-Tools' model_builder.

Variables are added in blocks and constraints as rows of (indices, coefficients); the model is
handed to OR-Tools in one call from a scipy CSR matrix. Building row by row through the Python
expression API costs more than solving these models, so we avoid it. Every row carries the
name of the constraint family that added it, so duals and slacks can be explained by family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
INF = float("inf")


@dataclass
class LinearModel:
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    row_starts: list[int] = field(default_factory=lambda: [0])
    columns: list[int] = field(default_factory=list)
    coefficients: list[float] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_family: list[str] = field(default_factory=list)

    @property
    def num_vars(self) -> int:
        return len(self.cost)

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    def add_var(self, lower: float, upper: float, cost: float, integer: bool = True) -> int:
        self.lower.append(lower)
        self.upper.append(upper)
        self.cost.append(cost)
        self.integer.append(integer)
        return len(self.cost) - 1

    def add_row(
        self, family: str, columns: list[int], coefficients: list[float], lower: float, upper: float
    ) -> int:
        self.columns.extend(columns)
        self.coefficients.extend(coefficients)
        self.row_starts.append(len(self.columns))
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        self.row_family.append(family)
        return len(self.row_lower) - 1

    def matrix(self) -> sp.csr_matrix:
        return sp.csr_matrix(
            (
                np.asarray(self.coefficients, dtype=np.float64),
                np.asarray(self.columns, dtype=np.int64),
                np.asarray(self.row_starts, dtype=np.int64),
            ),
            shape=(self.num_rows, self.num_vars),
        )

    def _helper(self, relax: bool) -> mbh.ModelBuilderHelper:
        helper = mbh.ModelBuilderHelper()
        matrix = self.matrix()
        # OR-Tools' stubs type these as ndarray[float64, ...] (a shape where the dtype belongs).
        bounds: list[Any] = [
            np.asarray(values, dtype=np.float64)
            for values in (self.lower, self.upper, self.cost, self.row_lower, self.row_upper)
        ]
        lower, upper, cost, row_lower, row_upper = bounds
        helper.fill_model_from_sparse_data(lower, upper, cost, row_lower, row_upper, matrix)
        if not relax:
            for j in np.flatnonzero(np.asarray(self.integer)):
                helper.set_var_integrality(int(j), True)
        return helper

    def solve(
        self,
        *,
        relax: bool,
        solver: str = "glop",
        time_limit: float = 10.0,
        hint: FloatArray | None = None,
        parameters: str = "",
    ) -> Solution:
        """`parameters`: solver-specific settings in the solver's own text format."""
        helper = self._helper(relax)
        if hint is not None:
            for j, value in enumerate(hint):
                helper.add_hint(j, float(value))
        engine = mbh.ModelSolverHelper(solver)
        engine.set_time_limit_in_seconds(time_limit)
        if solver == "highs" and not relax:
            engine.set_solver_specific_parameters("mip_rel_gap=0.0005\nthreads=1\noutput_flag=false")
        elif parameters:
            engine.set_solver_specific_parameters(parameters)
        engine.solve(helper)
        status = engine.status()
        if not engine.has_solution():
            return Solution(status=status.name, values=None, objective=None, bound=None, duals=None)
        values = np.asarray(engine.variable_values(), dtype=np.float64)
        objective = float(engine.objective_value())
        bound = objective if relax else float(engine.best_objective_bound())
        duals = np.asarray(engine.dual_values(), dtype=np.float64) if relax else None
        return Solution(status=status.name, values=values, objective=objective, bound=bound, duals=duals)


@dataclass
class Solution:
    status: str
    values: FloatArray | None
    objective: float | None
    bound: float | None
    duals: FloatArray | None
