"""Optimisation models for event deployment: stage-1 allocation and stage-2 named rostering."""

from solver.pipeline import SolveCancelled, solve

__all__ = ["SolveCancelled", "solve"]
