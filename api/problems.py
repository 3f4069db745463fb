"""RFC 9457 Problem Details for every error; nothing internal (no stack trace) reaches a client."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import IntegrityError

log = logging.getLogger("api")

PROBLEM_JSON = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorised",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class RowError(msgspec.Struct, frozen=True):
    """One rejected input row: where it is, which field, and why."""

    line: int  # physical line in the uploaded file (CSV/ICS/JSON)
    reason: str
    row: int | None = None  # 1-based record number
    key: str | None = None  # the row's external id or service number, when readable
    field: str | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str = ""
    instance: str = ""
    errors: list[Any] | None = None


class ProblemError(Exception):
    """Raise from services to answer with a specific Problem."""

    def __init__(self, status: int, detail: str, *, errors: list[Any] | None = None, kind: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.kind = kind


class ImportRejected(ProblemError):
    def __init__(self, errors: list[RowError], what: str) -> None:
        rows = len({e.line for e in errors})
        super().__init__(
            422,
            f"{rows} bad row(s) in the {what}; nothing was imported.",
            errors=errors,
            kind="import-rejected",
        )


def _problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    errors: list[Any] | None = None,
    kind: str = "",
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    slug = kind or TITLES.get(status, "error").lower().replace(" ", "-")
    return Response(
        Problem(
            type=f"/problems/{slug}",
            title=TITLES.get(status, "Error"),
            status=status,
            detail=detail,
            instance=str(request.url.path),
            errors=errors,
        ),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def problem_error_handler(request: Request[Any, Any, Any], exc: ProblemError) -> Response[Problem]:
    return _problem(request, exc.status, exc.detail, errors=exc.errors, kind=exc.kind)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    errors = None
    detail = exc.detail
    if isinstance(exc, ValidationException):
        extra = exc.extra
        errors = list(extra) if isinstance(extra, list) else ([extra] if extra else None)
        detail = detail or "The request is not valid."
    headers = dict(exc.headers) if exc.headers else None
    return _problem(request, exc.status_code, detail, errors=errors, headers=headers)


def integrity_error_handler(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[Problem]:
    log.info("integrity error on %s: %s", request.url.path, exc.orig)
    return _problem(
        request, 409, "The change conflicts with stored data (a duplicate or a concurrent write)."
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _problem(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "An internal error occurred; it has been logged."
    )


def _raised_reading_the_body(exc: BaseException) -> bool:
    """Whether the error came out of Litestar decoding the request body (msgspec gives up on JSON
    nested deeper than the interpreter's recursion limit)."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name.startswith("decode_") and "litestar/serialization" in code.co_filename.replace(
            "\\", "/"
        ):
            return True
        tb = tb.tb_next
    return False


def recursion_error_handler(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Problem]:
    if _raised_reading_the_body(exc):
        return _problem(request, 400, "The request body is nested too deeply to read.")
    return internal_error_handler(request, exc)  # anywhere else it is a bug


EXCEPTION_HANDLERS = {
    ProblemError: problem_error_handler,
    RecursionError: recursion_error_handler,
    HTTPException: http_exception_handler,
    IntegrityError: integrity_error_handler,
    Exception: internal_error_handler,
}
