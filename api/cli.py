"""The `planner` command line: demo data, plans and benchmarks, and the service itself.

Each subcommand lives in its own module and registers itself here; heavy imports happen inside
the handlers so that `planner --help` stays fast."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


def _register_all(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from api import cli_planning, cli_service

    cli_planning.register(sub)
    cli_service.register(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planner", description="Plan police event deployments across London."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _register_all(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
