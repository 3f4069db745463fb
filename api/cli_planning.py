"""`planner demo`, `planner plan` and `planner bench`."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the planning subcommands."""
