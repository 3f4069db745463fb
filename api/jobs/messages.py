"""What the solve child tells its worker, as typed msgspec Structs over the pipe (msgpack bytes).

A child sends any number of `ProgressReport`s, then exactly one of `Solved`, `Cancelled` or
`Failed`. The result inside `Solved` is the job kind's own type (see kinds.py)."""

from __future__ import annotations

from typing import Any

import msgspec

from api.jobs.transitions import ErrorKind
from planner.plan import Progress


class ProgressReport(msgspec.Struct, tag="progress", frozen=True):
    progress: Progress


class Solved(msgspec.Struct, tag="solved", frozen=True):
    result: bytes  # msgpack of the kind's result type; decoded by the worker with that type
    seconds: float  # the solve's wall time in the child


class Cancelled(msgspec.Struct, tag="cancelled", frozen=True):
    pass


class Failed(msgspec.Struct, tag="failed", frozen=True):
    kind: ErrorKind
    message: str  # names what was wrong; never a traceback


ChildMessage = ProgressReport | Solved | Cancelled | Failed

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(ChildMessage)


def encode(message: ChildMessage) -> bytes:
    return _encoder.encode(message)


def decode(data: bytes) -> Any:
    return _decoder.decode(data)
