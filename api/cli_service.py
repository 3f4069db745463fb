"""`planner serve` and key management (owned by the service layer)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the service subcommands."""
