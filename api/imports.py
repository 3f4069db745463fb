"""Bulk input parsing: officers (CSV, JSON) and events (CSV, JSON, iCalendar) into planner.domain types.

All-or-nothing: every row is checked, and if any is bad the whole file is rejected with one RowError
per problem (line, field, reason). Nothing here touches the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from api.db.models import EventRow, OfficerRow, PlanAssignment
from api.problems import ImportRejected, RowError
from planner.domain import (
    DUTY_ROLES,
    EVENT_KINDS,
    PRIORITIES,
    RANKS,
    SKILLS,
    Event,
    Officer,
    Organisation,
    Policy,
)

LONDON = ZoneInfo("Europe/London")
MAX_ERRORS = 5000  # a response listing more than this is cut (the count in `detail` stays exact)
OFFICER_CSV_COLUMNS = (
    "service_number",
    "name",
    "unit",
    "rank",
    "duty_role",
    "skills",
    "shift_pattern",
    "pattern_offset",
    "leave",
)
EVENT_CSV_COLUMNS = (
    "external_id",
    "name",
    "kind",
    "borough",
    "start",
    "end",
    "priority",
    "demand",
    "grade",
    "venue",
    "notified",
    "status",
)
GRADES = ("police-free", "A", "B", "C", "C-IR")
MAX_EVENT_DAYS = 92  # long-running events (Winter Wonderland: six weeks) need a tour every day
# Units of one role per tour: more than the force has officers for in any role (the demo year's
# largest is 3,234 constables at Carnival); a larger count is a typing error that would overflow
# the solver's integer models.
MAX_DEMAND_COUNT = 10_000


def _length(column: Any) -> int:
    return int(column.type.length)


# What the tables hold (the column specs in api.db.models): a longer value is refused row by row.
EVENT_ID_LENGTH = _length(EventRow.__table__.c.external_id)
EVENT_TEXT_LENGTH = {"name": _length(EventRow.__table__.c.name), "venue": _length(EventRow.__table__.c.venue)}
ROLE_CODE_LENGTH = _length(PlanAssignment.__table__.c.role)
SERVICE_NUMBER_LENGTH = _length(OfficerRow.__table__.c.service_number)
OFFICER_NAME_LENGTH = _length(OfficerRow.__table__.c.name)
# Event ids come from calendars (iCalendar UIDs may look like URLs, so "/" is allowed inside) and are
# addressed in URLs (percent-encoded): printable ASCII without spaces, not starting with "/", and not
# "." or ".." (clients resolve those away before sending).
EVENT_ID_PATTERN = r"^[!-.0-~][!-~]*$"
SERVICE_NUMBER_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._-]*$"  # one URL path segment


def event_id_problem(value: str) -> str | None:
    """Why `value` cannot be an event id, or None."""
    if not value.strip():
        return "external id is empty"
    if len(value) > EVENT_ID_LENGTH:
        return f"external id is longer than {EVENT_ID_LENGTH} characters"
    if value.startswith("/"):
        return "external id may not start with '/' (it could not be addressed in a URL)"
    if not re.fullmatch(EVENT_ID_PATTERN, value):
        return "external id may hold printable ASCII characters only, without spaces"
    if value in (".", ".."):
        return "external id may not be '.' or '..' (URLs resolve them away)"
    return None


@dataclass(frozen=True)
class ImportContext:
    """What a row is checked against: the organisation and the current policy."""

    units: frozenset[str]
    boroughs: dict[str, str]  # ONS code or lower-case name -> ONS code
    roles: frozenset[str]
    shift_patterns: dict[str, int]  # name -> cycle length in days

    @classmethod
    def build(cls, organisation: Organisation, policy: Policy) -> ImportContext:
        boroughs: dict[str, str] = {}
        for b in organisation.boroughs:
            boroughs[b.code] = b.code
            boroughs[b.name.lower()] = b.code
        return cls(
            units=frozenset(organisation.unit_codes()),
            boroughs=boroughs,
            roles=frozenset(policy.roles),
            shift_patterns={name: len(p.cycle) for name, p in policy.shift_patterns.items()},
        )


class _Rejects:
    def __init__(self, line_of_row: Callable[[int], int] | None = None) -> None:
        self.errors: list[RowError] = []
        self._line_of_row = line_of_row

    def add(
        self,
        line: int,
        reason: str,
        *,
        row: int | None = None,
        key: str | None = None,
        field: str | None = None,
    ) -> None:
        if self._line_of_row is not None and row is not None:
            line = self._line_of_row(row)
        self.errors.append(RowError(line=line, reason=reason, row=row, key=key, field=field))

    def raise_if_any(self, what: str) -> None:
        if self.errors:
            errors = sorted(self.errors, key=lambda e: (e.line, e.row or 0))
            exc = ImportRejected(errors[:MAX_ERRORS], what)
            exc.detail = f"{len({e.line for e in errors})} bad row(s) in the {what}; nothing was imported."
            raise exc


# --------------------------------------------------------------------------- small parsers


def _split_list(value: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;|]", value) if p.strip()]


def parse_datetime(value: Any) -> dt.datetime:
    """ISO 8601 with or without seconds; an offset is converted to naive London local time."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError(f"expected an ISO 8601 date-time, got {value!r}")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(LONDON).replace(tzinfo=None)
    return parsed


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(f"expected an ISO 8601 date, got {value!r}")


def parse_demand(value: str) -> list[dict[str, Any]]:
    """`serial_l2:4; bronze:1` -> [{"role": "serial_l2", "count": 4}, ...]."""
    out = []
    for part in _split_list(value):
        role, sep, count = part.partition(":")
        if not sep:
            raise ValueError(f"demand item {part!r} is not role:count")
        out.append({"role": role.strip(), "count": int(count)})
    return out


def parse_leave(value: str) -> list[dict[str, str]]:
    """`2027-01-01/2027-01-14; 2027-06-01/2027-06-07` -> date ranges (inclusive)."""
    out = []
    for part in _split_list(value):
        start, sep, end = part.partition("/")
        out.append({"start": start.strip(), "end": (end if sep else start).strip()})
    return out


def _msgspec_field(message: str) -> str | None:
    match = re.search(r"at `\$(?:\[\d+\])?\.?([^`]*)`", message)
    return match.group(1) or None if match else None


# --------------------------------------------------------------------------- officers


def _check_officer(officer: Officer, ctx: ImportContext) -> list[tuple[str, str]]:
    problems = []
    number = officer.service_number
    if not number.strip():
        problems.append(("service_number", "service number is empty"))
    elif len(number) > SERVICE_NUMBER_LENGTH or not re.fullmatch(SERVICE_NUMBER_PATTERN, number):
        problems.append(
            (
                "service_number",
                f"a service number is 1 to {SERVICE_NUMBER_LENGTH} letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
            )
        )
    if len(officer.name) > OFFICER_NAME_LENGTH:
        problems.append(("name", f"name is longer than {OFFICER_NAME_LENGTH} characters"))
    if officer.unit not in ctx.units:
        problems.append(("unit", f"unknown unit {officer.unit!r} (a borough ONS code or central unit code)"))
    unknown = [s for s in officer.skills if s not in SKILLS]
    if unknown:
        problems.append(("skills", f"unknown skill(s) {', '.join(unknown)}"))
    cycle = ctx.shift_patterns.get(officer.shift_pattern)
    if cycle is None:
        # The rule: an officer's pattern must be in the current policy, so that every stored officer
        # can be rostered; a new pattern is added to the policy first.
        problems.append(
            (
                "shift_pattern",
                f"unknown shift pattern {officer.shift_pattern!r}: the current policy has "
                f"{', '.join(sorted(ctx.shift_patterns))}; to use a new pattern, store a policy that "
                "defines it first (PUT /policy), then import the officers",
            )
        )
    elif not 0 <= officer.pattern_offset < cycle:
        problems.append(
            (
                "pattern_offset",
                f"pattern_offset must be from 0 to {cycle - 1} (a day of the {cycle}-day "
                f"{officer.shift_pattern!r} cycle)",
            )
        )
    for leave in officer.leave:
        if leave.end < leave.start:
            problems.append(("leave", f"leave ends ({leave.end}) before it starts ({leave.start})"))
    return problems


def _officer_from_mapping(raw: dict[str, Any]) -> Officer:
    return msgspec.convert(raw, Officer, strict=False)


def _collect(
    records: Iterable[tuple[int, int, dict[str, Any] | Exception]],
    build: Callable[[dict[str, Any]], Any],
    check: Callable[[Any], list[tuple[str, str]]],
    key_of: Callable[[Any], str],
    key_field: str,
    what: str,
    line_of_row: Callable[[int], int] | None = None,
) -> list[Any]:
    """Build and check every record; raise ImportRejected listing every bad one.

    Records carry (line, row number, mapping or parse error); `line_of_row`, if given, supplies
    line numbers lazily (JSON), since they are only needed for bad rows."""
    rejects = _Rejects(line_of_row)
    out: list[Any] = []
    seen: dict[str, int] = {}
    for line, row, raw in records:
        if isinstance(raw, Exception):
            rejects.add(line, str(raw), row=row)
            continue
        key = raw.get(key_field)
        key = str(key) if key is not None else None
        try:
            item = build(raw)
        except (msgspec.ValidationError, ValueError, TypeError) as exc:
            message = str(exc)
            rejects.add(line, message, row=row, key=key, field=_msgspec_field(message))
            continue
        problems = check(item)
        for field, reason in problems:
            rejects.add(line, reason, row=row, key=key, field=field)
        item_key = key_of(item)
        if item_key in seen:
            rejects.add(
                line, f"duplicate of the row on line {seen[item_key]}", row=row, key=key, field=key_field
            )
            continue
        seen[item_key] = line
        if not problems:
            out.append(item)
    rejects.raise_if_any(what)
    return out


def _csv_records(
    text: str,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    convert: Callable[[dict[str, str]], dict[str, Any]],
) -> Iterable[tuple[int, int, dict[str, Any] | Exception]]:
    # newline="": the csv module splits records itself, so CR-only and CRLF line endings both work
    # and a line break inside a quoted field stays in the field
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ImportRejected(
            [RowError(line=1, reason=f"unreadable CSV: {exc}", row=0, field="header")], "CSV header"
        ) from exc
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in columns]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise ImportRejected([RowError(line=1, reason="; ".join(parts), row=0, field="header")], "CSV header")
    reader.fieldnames = header
    row, line = 0, reader.line_num
    records = iter(reader)
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over the csv module's 131,072 characters
            # the reader cannot go on after this: report the record's first line and stop
            yield max(reader.line_num, line + 1), row + 1, ValueError(f"unreadable CSV record: {exc}")
            return
        row += 1
        line = reader.line_num
        if None in record:
            extra = record[None]  # csv puts surplus fields under the None key
            yield line, row, ValueError(f"{len(extra)} value(s) more than the header has")
            continue
        try:
            yield line, row, convert({k: (v or "").strip() for k, v in record.items()})
        except (ValueError, TypeError) as exc:
            yield line, row, ValueError(f"{exc}")


def _officer_csv_row(r: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "service_number": r.get("service_number", ""),
        "unit": r.get("unit", ""),
        "rank": r.get("rank", ""),
        "duty_role": r.get("duty_role", ""),
        "name": r.get("name", ""),
        "skills": _split_list(r.get("skills", "")),
        "leave": parse_leave(r.get("leave", "")),
    }
    if r.get("shift_pattern"):
        out["shift_pattern"] = r["shift_pattern"]
    if r.get("pattern_offset"):
        out["pattern_offset"] = r["pattern_offset"]
    return out


def parse_officers_csv(data: bytes, ctx: ImportContext) -> list[Officer]:
    text = _decode_text(data)
    records = _csv_records(
        text, OFFICER_CSV_COLUMNS, ("service_number", "unit", "rank", "duty_role"), _officer_csv_row
    )
    return _collect(
        records,
        _officer_from_mapping,
        lambda o: _check_officer(o, ctx),
        lambda o: o.service_number,
        "service_number",
        "officers CSV",
    )


def _json_records(data: bytes, label: str) -> Iterator[tuple[int, int, dict[str, Any] | Exception]]:
    """(0, item number, the item or why it cannot be one) for each item of a JSON array."""
    return (
        (0, i + 1, item if isinstance(item, dict) else TypeError("each item must be an object"))
        for i, item in enumerate(_json_items(data, label))
    )


def parse_officers_json(data: bytes, ctx: ImportContext) -> list[Officer]:
    records = _json_records(data, "officers JSON")
    return _collect(
        records,
        _officer_from_mapping,
        lambda o: _check_officer(o, ctx),
        lambda o: o.service_number,
        "service_number",
        "officers JSON",
        _json_line_finder(data),
    )


# --------------------------------------------------------------------------- events


def _check_event(event: Event, ctx: ImportContext) -> list[tuple[str, str]]:
    problems = []
    id_problem = event_id_problem(event.external_id)
    if id_problem:
        problems.append(("external_id", id_problem))
    if not event.name.strip():
        problems.append(("name", "name is empty"))
    for name, limit in EVENT_TEXT_LENGTH.items():
        if len(getattr(event, name)) > limit:
            problems.append((name, f"{name} is longer than {limit} characters"))
    if event.borough not in ctx.boroughs.values():
        problems.append(("borough", f"unknown borough {event.borough!r} (an ONS code or borough name)"))
    if event.end <= event.start:
        problems.append(("end", f"end ({event.end}) is not after start ({event.start})"))
    elif event.end - event.start > dt.timedelta(days=MAX_EVENT_DAYS):
        problems.append(("end", f"an event may last at most {MAX_EVENT_DAYS} days"))
    for d in event.demand:
        if d.role not in ctx.roles:
            problems.append(("demand", f"unknown role {d.role!r} (see the policy's roles)"))
        if not 1 <= d.count <= MAX_DEMAND_COUNT:
            problems.append(("demand", f"count for {d.role!r} must be from 1 to {MAX_DEMAND_COUNT:,}"))
    if event.grade is not None and event.kind != "football":
        problems.append(("grade", "only football matches have a grade"))
    return problems


def _normalise_event(raw: dict[str, Any], ctx: ImportContext) -> dict[str, Any]:
    out = dict(raw)
    for name in ("start", "end"):
        if out.get(name) not in (None, ""):
            out[name] = parse_datetime(out[name])
    if out.get("notified") in ("", None):
        out.pop("notified", None)
    else:
        out["notified"] = parse_date(out["notified"])
    borough = out.get("borough")
    if isinstance(borough, str):
        out["borough"] = ctx.boroughs.get(borough.strip(), ctx.boroughs.get(borough.strip().lower(), borough))
    for name in ("grade",):
        if out.get(name) == "":
            out[name] = None
    for name in ("priority", "status", "venue"):
        if out.get(name) == "":
            out.pop(name)
    return out


def _event_builder(ctx: ImportContext) -> Callable[[dict[str, Any]], Event]:
    def build(raw: dict[str, Any]) -> Event:
        return msgspec.convert(_normalise_event(raw, ctx), Event, strict=False)

    return build


def _event_csv_row(r: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: r.get(k, "") for k in EVENT_CSV_COLUMNS if k != "demand"}
    out["demand"] = parse_demand(r.get("demand", ""))
    return out


def parse_events_csv(data: bytes, ctx: ImportContext) -> list[Event]:
    records = _csv_records(
        _decode_text(data),
        EVENT_CSV_COLUMNS,
        ("external_id", "name", "kind", "borough", "start", "end"),
        _event_csv_row,
    )
    return _collect(
        records,
        _event_builder(ctx),
        lambda e: _check_event(e, ctx),
        lambda e: e.external_id,
        "external_id",
        "events CSV",
    )


def parse_events_json(data: bytes, ctx: ImportContext) -> list[Event]:
    records = _json_records(data, "events JSON")
    return _collect(
        records,
        _event_builder(ctx),
        lambda e: _check_event(e, ctx),
        lambda e: e.external_id,
        "external_id",
        "events JSON",
        _json_line_finder(data),
    )


ICS_PRIORITY = {1: "critical", 2: "critical", 3: "high", 4: "high", 5: "normal", 6: "normal"}


def _ics_value(component: Any, name: str) -> Any:
    value = component.get(name)
    if value is None:
        return None
    if hasattr(value, "dt"):
        return value.dt
    if isinstance(value, list):
        return value
    return str(value)


def _ics_datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return parse_datetime(value)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return value


def _ics_record(component: Any) -> dict[str, Any]:
    kind = component.get("CATEGORIES")
    categories: list[str] = []
    if kind is not None:
        for entry in kind if isinstance(kind, list) else [kind]:
            categories.extend(str(c).strip().lower() for c in getattr(entry, "cats", [entry]))
    kinds = [c for c in categories if c in EVENT_KINDS]
    priority_raw = _ics_value(component, "PRIORITY")
    out: dict[str, Any] = {
        "external_id": _ics_value(component, "UID") or "",
        "name": _ics_value(component, "SUMMARY") or "",
        "kind": kinds[0] if kinds else (categories[0] if categories else "other"),
        "borough": _ics_value(component, "X-MET-BOROUGH") or "",
        "start": _ics_datetime(_ics_value(component, "DTSTART")),
        "end": _ics_datetime(_ics_value(component, "DTEND")),
        "venue": _ics_value(component, "LOCATION") or "",
        "demand": parse_demand(_ics_value(component, "X-MET-DEMAND") or ""),
        "grade": _ics_value(component, "X-MET-GRADE") or None,
        "notified": _ics_value(component, "X-MET-NOTIFIED") or None,
    }
    if out["start"] is None:
        raise ValueError("DTSTART is missing")
    if out["end"] is None:
        duration = component.get("DURATION")
        if duration is None:
            raise ValueError("DTEND (or DURATION) is missing")
        out["end"] = out["start"] + duration.dt
    explicit = _ics_value(component, "X-MET-PRIORITY")
    if explicit:
        out["priority"] = explicit
    elif priority_raw not in (None, "", "0"):
        out["priority"] = ICS_PRIORITY.get(int(priority_raw), "low")
    status = _ics_value(component, "STATUS")
    if status:
        out["status"] = "cancelled" if status.upper() == "CANCELLED" else "planned"
    return out


def parse_events_ics(data: bytes, ctx: ImportContext) -> list[Event]:
    import icalendar

    text = _decode_text(data)
    vevent_lines = [
        i + 1 for i, line in enumerate(text.splitlines()) if line.strip().upper() == "BEGIN:VEVENT"
    ]
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        raise ImportRejected(
            [RowError(line=1, reason=f"not an iCalendar file: {exc}")], "iCalendar file"
        ) from exc
    events = list(calendar.walk("VEVENT"))

    def records() -> Iterable[tuple[int, int, dict[str, Any] | Exception]]:
        for index, component in enumerate(events):
            line = vevent_lines[index] if index < len(vevent_lines) else 0
            try:
                yield line, index + 1, _ics_record(component)
            except (ValueError, TypeError, KeyError) as exc:
                yield line, index + 1, ValueError(str(exc))

    return _collect(
        records(),
        _event_builder(ctx),
        lambda e: _check_event(e, ctx),
        lambda e: e.external_id,
        "external_id",
        "iCalendar file",
    )


# --------------------------------------------------------------------------- helpers


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected([RowError(line=1, reason=f"not UTF-8 text: {exc}")], "upload") from exc


def _json_items(data: bytes, what: str) -> list[Any]:
    try:
        items = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise ImportRejected([RowError(line=1, reason=f"not valid JSON: {exc}")], what) from exc
    except RecursionError:
        raise ImportRejected([RowError(line=1, reason="the JSON is nested too deeply")], what) from None
    if not isinstance(items, list):
        raise ImportRejected([RowError(line=1, reason="expected a JSON array of objects")], what)
    return items


def _json_line_finder(data: bytes) -> Callable[[int], int]:
    cache: list[list[int]] = []

    def line_of_row(row: int) -> int:
        if not cache:
            cache.append(_json_item_lines(data))
        lines = cache[0]
        return lines[row - 1] if 0 < row <= len(lines) else 1

    return line_of_row


def _json_item_lines(data: bytes) -> list[int]:
    """Line where each item of the top-level JSON array starts (a small scanner; error path only)."""
    lines: list[int] = []
    line, depth, in_string, escape = 1, 0, False, False
    expecting_item = False
    for byte in data:
        ch = chr(byte)
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
            elif ch == "\n":
                line += 1
            continue
        if ch == "\n":
            line += 1
            continue
        if ch in " \t\r":
            continue
        if depth == 1 and expecting_item and ch not in ",]":
            lines.append(line)
            expecting_item = False
        if ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth == 1 and ch == "[":
                expecting_item = True
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 1:
            expecting_item = True
    return lines


__all__ = [
    "DUTY_ROLES",
    "GRADES",
    "ImportContext",
    "PRIORITIES",
    "RANKS",
    "parse_events_csv",
    "parse_events_ics",
    "parse_events_json",
    "parse_officers_csv",
    "parse_officers_json",
]
