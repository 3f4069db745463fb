"""What changed in the inputs since a plan version was made.

A re-plan does not take a list of edits from its caller: events, officers and leave change through
the ordinary endpoints (an import, a new event, a sickness record), and the re-plan compares the
inputs its parent version was made from with the inputs as they stand. That way no change can be
missed because it came in through another door, and the change log says exactly what the version
answered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import msgspec

from planner.domain import Event, Officer, PlanningProblem, Record
from planner.rules import event_tours


class InputChanges(Record, frozen=True):
    events_added: tuple[str, ...] = ()
    events_cancelled: tuple[str, ...] = ()  # removed, or no longer "planned"
    events_retimed: tuple[str, ...] = ()  # tours at other times or on other days
    demand_changed: tuple[str, ...] = ()
    events_updated: tuple[str, ...] = ()  # priority, borough, grade or name only
    # Officer-days newly unavailable (sickness, court, leave granted), per service number.
    unavailable: dict[str, tuple[dt.date, ...]] = {}
    available: dict[str, tuple[dt.date, ...]] = {}  # leave withdrawn: free again
    officers_added: tuple[str, ...] = ()
    officers_removed: tuple[str, ...] = ()
    policy_changed: bool = False

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.events_added,
                self.events_cancelled,
                self.events_retimed,
                self.demand_changed,
                self.events_updated,
                self.unavailable,
                self.available,
                self.officers_added,
                self.officers_removed,
                self.policy_changed,
            )
        )

    def describe(self) -> list[str]:
        """One line per change, for the version's change log."""
        out = [f"event {e} added" for e in self.events_added]
        out += [f"event {e} cancelled" for e in self.events_cancelled]
        out += [f"event {e} retimed" for e in self.events_retimed]
        out += [f"event {e} demand changed" for e in self.demand_changed]
        out += [f"event {e} updated" for e in self.events_updated]
        out += [f"officer {s} unavailable {_span(d)}" for s, d in self.unavailable.items()]
        out += [f"officer {s} available again {_span(d)}" for s, d in self.available.items()]
        out += [f"officer {s} added" for s in self.officers_added]
        out += [f"officer {s} removed" for s in self.officers_removed]
        if self.policy_changed:
            out.append("policy changed")
        return out


def _span(days: tuple[dt.date, ...]) -> str:
    if not days:
        return ""
    first, last = min(days), max(days)
    return f"{first}" if first == last else f"{first} to {last} ({len(days)} days)"


def _planned(problem: PlanningProblem) -> dict[str, Event]:
    return {e.external_id: e for e in problem.events if e.status == "planned"}


def _leave_days(officer: Officer, first: dt.date, last: dt.date) -> set[dt.date]:
    out: set[dt.date] = set()
    for leave in officer.leave:
        day = max(leave.start, first)
        while day <= min(leave.end, last):
            out.add(day)
            day += dt.timedelta(days=1)
    return out


def _tour_times(event: Event, problem: PlanningProblem) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    return [(t.day, t.start, t.end) for t in event_tours(event, problem.policy)]


def detect(before: PlanningProblem, after: PlanningProblem) -> InputChanges:
    """The changes that turn `before`'s inputs into `after`'s, over `after`'s horizon."""
    old, new = _planned(before), _planned(after)
    added = sorted(new.keys() - old.keys())
    cancelled = sorted(old.keys() - new.keys())
    retimed, demand, updated = [], [], []
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        if a == b:
            continue
        if _tour_times(a, before) != _tour_times(b, after):
            retimed.append(key)
        elif a.demand != b.demand:
            demand.append(key)
        else:
            updated.append(key)
    unavailable: dict[str, tuple[dt.date, ...]] = {}
    available: dict[str, tuple[dt.date, ...]] = {}
    # The service hands a re-plan the officers it already holds when nothing changed: skip them.
    same = before.officers is after.officers
    old_officers = {} if same else {o.service_number: o for o in before.officers}
    new_officers = {} if same else {o.service_number: o for o in after.officers}
    changed = () if same else _changed_officers(old_officers, new_officers)
    for number, officer in changed:
        was = _leave_days(old_officers[number], after.start, after.end)
        now = _leave_days(officer, after.start, after.end)
        if now - was:
            unavailable[number] = tuple(sorted(now - was))
        if was - now:
            available[number] = tuple(sorted(was - now))
    return InputChanges(
        events_added=tuple(added),
        events_cancelled=tuple(cancelled),
        events_retimed=tuple(retimed),
        demand_changed=tuple(demand),
        events_updated=tuple(updated),
        unavailable=unavailable,
        available=available,
        officers_added=tuple(sorted(new_officers.keys() - old_officers.keys())),
        officers_removed=tuple(sorted(old_officers.keys() - new_officers.keys())),
        policy_changed=before.policy != after.policy,
    )


def _changed_officers(old: dict[str, Officer], new: dict[str, Officer]) -> Iterator[tuple[str, Officer]]:
    for number, officer in new.items():
        was = old.get(number)
        if was is not None and was.leave != officer.leave:
            yield number, officer


class InputDelta(Record, frozen=True):
    """The records that changed between two versions' inputs, enough to rebuild the later inputs
    from the earlier ones (a version stores this, not a copy of the year's inputs)."""

    events: tuple[Event, ...] = ()  # added or changed, as they are now
    events_removed: tuple[str, ...] = ()  # no longer planned (cancelled or gone)
    officers: tuple[Officer, ...] = ()  # officers whose records changed (their leave), as they are now


def input_delta(before: PlanningProblem, after: PlanningProblem, changes: InputChanges) -> InputDelta:
    events = {e.external_id: e for e in after.events if e.status == "planned"}
    changed = (
        *changes.events_added,
        *changes.events_retimed,
        *changes.demand_changed,
        *changes.events_updated,
    )
    officers = (
        {o.service_number: o for o in after.officers} if (changes.unavailable or changes.available) else {}
    )
    numbers = sorted({*changes.unavailable, *changes.available})
    return InputDelta(
        events=tuple(events[e] for e in changed),
        events_removed=changes.events_cancelled,
        officers=tuple(officers[n] for n in numbers),
    )


def apply_delta(problem: PlanningProblem, delta: InputDelta) -> PlanningProblem:
    """`problem` with `delta` applied: the inputs of the version that stored it."""
    if not (delta.events or delta.events_removed or delta.officers):
        return problem
    removed = set(delta.events_removed)
    updated = {e.external_id: e for e in delta.events}
    events = [updated.pop(e.external_id, e) for e in problem.events if e.external_id not in removed]
    events.extend(updated.values())
    events.sort(key=lambda e: (e.start, e.external_id))
    officers = problem.officers
    if delta.officers:
        changed = {o.service_number: o for o in delta.officers}
        officers = tuple(changed.get(o.service_number, o) for o in officers)
    return msgspec.structs.replace(problem, events=tuple(events), officers=officers)
