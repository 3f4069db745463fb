"""Structural variants of the demo London year: shapes a real force's data has and the demo lacks.

The demo (`planner.demo.demo_problem`) is one shape of London: rotating earlies, lates and nights
for response, staggered office-hours teams, five central units, a Level 2 driver in every serial.
A real force's data will differ, so the solver is tested and benchmarked on *variants*: pure,
deterministic transformations of a `PlanningProblem` (the input is never changed; randomness, where
there is any, comes from a `random.Random` seeded by the transformation's name and the year).

`TRANSFORMS` holds the single transformations, `COMPOSITES` the named combinations used by the
benchmark, and `VARIANTS` both (name -> function). `variant_problem(name, year, seed)` applies one to
the demo year; `compose(...)` chains transformations; `problem_issues(problem)` lists what would make
a problem unusable (unknown boroughs, units, patterns or roles, duplicate ids, unsorted events).

New events get fresh ids `<TAG>-<year>-<nnnnn>` (EVE-2027-00001, DERBY-2027-00001...), numbered in
chronological order, and the calendar stays sorted as `planner.demo._Events.finish` sorts it (by
start, end, borough, name; existing events keep their order and ids).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterable

import msgspec

from planner.demo import (
    _CAUSES,
    _CLUBS,
    MON,
    _Events,
    _fill,
    _last_weekday,
    demo_problem,
)
from planner.domain import (
    CentralUnit,
    Event,
    Officer,
    PlanningProblem,
    Policy,
    Priority,
    ShiftPattern,
    Slot,
    TourTime,
)
from planner.rules import REST, event_tours

Transform = Callable[[PlanningProblem], PlanningProblem]

_DAY = dt.timedelta(days=1)
_replace = msgspec.structs.replace

DAY_TOUR = "D"
DAY_TOUR_TIME = TourTime(start_minute=8 * 60, hours=8.0)
WEEKDAYS_CYCLE = "DDDDDRR"  # Monday to Friday, when the pattern is anchored on a Monday
AID_UNIT = CentralUnit(code="AID", name="Central Aid Pool", base_borough="E09000033")  # Westminster
AID_CONSTABLES = 3000
AID_SERGEANTS = 400
EARLY_TOUR_BEFORE = dt.time(10, 0)


def _event_sort_key(event: Event) -> tuple[dt.datetime, dt.datetime, str, str]:
    """The order planner.demo._Events.finish gives the calendar."""
    return (event.start, event.end, event.borough, event.name)


def _with_events(
    problem: PlanningProblem, new: Iterable[Event], tag: str, drop: Iterable[str] = ()
) -> PlanningProblem:
    """The problem with `new` events (fresh ids `<tag>-<year>-<n>`, chronological) added and the
    events whose ids are in `drop` removed; the calendar stays sorted."""
    dropped = set(drop)
    kept = [e for e in problem.events if e.external_id not in dropped]
    taken = {e.external_id for e in kept}
    year = problem.start.year
    numbered: list[Event] = []
    n = 0
    for event in sorted(new, key=_event_sort_key):
        n += 1
        while f"{tag}-{year}-{n:05d}" in taken:
            n += 1
        numbered.append(_replace(event, external_id=f"{tag}-{year}-{n:05d}"))
    # sorted() is stable: existing events with equal keys keep their order.
    return _replace(problem, events=tuple(sorted(kept + numbered, key=_event_sort_key)))


def _borough_codes(problem: PlanningProblem) -> dict[str, str]:
    return {b.name: b.code for b in problem.organisation.boroughs}


def _rng(name: str, problem: PlanningProblem) -> random.Random:
    # A string seed is hashed with SHA-512: the same on every run and machine.
    return random.Random(f"{name}:{problem.start.year}")


def _with_day_tour(policy: Policy) -> dict[str, TourTime]:
    tours = dict(policy.tour_times)
    tours.setdefault(DAY_TOUR, DAY_TOUR_TIME)
    return tours


# --------------------------------------------------------------------------- rosters


def day_tours(problem: PlanningProblem) -> PlanningProblem:
    """Every working day is one 08:00 day tour: forces on a day-shift model roster no earlies,
    lates or nights."""
    policy = problem.policy
    patterns = {
        name: ShiftPattern(cycle="".join(REST if c == REST else DAY_TOUR for c in p.cycle))
        for name, p in policy.shift_patterns.items()
    }
    # Every working letter is now DAY_TOUR, so (re)defining it as 08:00 for 8 h changes nothing else.
    tours = {**policy.tour_times, DAY_TOUR: DAY_TOUR_TIME}
    return _replace(problem, policy=_replace(policy, shift_patterns=patterns, tour_times=tours))


def weekday_investigators(problem: PlanningProblem) -> PlanningProblem:
    """Investigators work Monday to Friday: many CID offices keep no weekend team at all."""
    policy = problem.policy
    patterns = dict(policy.shift_patterns)
    key = next((k for k, p in patterns.items() if p.cycle == WEEKDAYS_CYCLE), None)
    if key is None:
        key = "weekdays"
        while key in patterns:
            key += "_"
        patterns[key] = ShiftPattern(cycle=WEEKDAYS_CYCLE)
    tours = _with_day_tour(policy)
    # Cycle position ((day - epoch).days + offset) % 7 is the day's weekday when offset is the
    # epoch's weekday: Monday-Friday on duty, Saturday and Sunday at rest.
    offset = policy.pattern_epoch.weekday()
    officers = tuple(
        _replace(o, shift_pattern=key, pattern_offset=offset) if o.duty_role == "investigation" else o
        for o in problem.officers
    )
    return _replace(
        problem,
        officers=officers,
        policy=_replace(policy, shift_patterns=patterns, tour_times=tours),
    )


def central_aid_pool(problem: PlanningProblem) -> PlanningProblem:
    """A large central aid pool without specialist skills: forces keep a reserve of constables and
    sergeants that only fills Level 3 posts.

    The pool's 3,000 constables and 400 sergeants are skill-less SPEC officers re-posted to a new
    unit "AID" (based in Westminster) on the rotating response pattern, so the force size and every
    service number stay as they were."""
    org = problem.organisation
    if any(u.code == AID_UNIT.code for u in org.central_units):
        return problem
    patterns = problem.policy.shift_patterns
    pattern = "response" if "response" in patterns else sorted(patterns)[0]
    cycle = len(patterns[pattern].cycle)
    want = {"PC": AID_CONSTABLES, "PS": AID_SERGEANTS}
    taken: Counter[str] = Counter()
    officers = list(problem.officers)
    moved: list[int] = []
    for i, o in enumerate(officers):
        if o.unit == "SPEC" and not o.skills and taken[o.rank] < want.get(o.rank, 0):
            taken[o.rank] += 1
            moved.append(i)
    # Offsets round-robin within rank, so every day of the cycle has about the same pool on duty.
    position: Counter[str] = Counter()
    for i in moved:
        o = officers[i]
        officers[i] = _replace(
            o,
            unit=AID_UNIT.code,
            duty_role="central",
            shift_pattern=pattern,
            pattern_offset=position[o.rank] % cycle,
        )
        position[o.rank] += 1
    org = _replace(org, central_units=(*org.central_units, AID_UNIT))
    return _replace(problem, organisation=org, officers=tuple(officers))


# --------------------------------------------------------------------------- drivers


def driver_without_level(problem: PlanningProblem) -> PlanningProblem:
    """A carrier driver needs only the DRIVER skill: in many forces the van is driven by a trained
    driver who is not part of the serial's public-order strength."""
    policy = problem.policy
    roles = {
        key: _replace(
            spec,
            slots=tuple(
                _replace(slot, skills=("DRIVER",)) if _is_driver(slot) else slot for slot in spec.slots
            ),
        )
        for key, spec in policy.roles.items()
    }
    return _replace(problem, policy=_replace(policy, roles=roles))


def _is_driver(slot: Slot) -> bool:
    return "DRIVER" in slot.skills


def plain_drivers(problem: PlanningProblem) -> PlanningProblem:
    """One in eight borough-response and roads-policing constables without public-order training
    hold the carrier-driver skill: real forces train drivers outside the public-order pool (in the
    demo every DRIVER also holds PO_L2 or PO_L1, so a DRIVER-only slot would change nothing)."""
    boroughs = {b.code for b in problem.organisation.boroughs}
    seen: Counter[str] = Counter()
    out: list[Officer] = []
    for o in problem.officers:
        eligible = (
            o.rank == "PC"
            and ((o.unit in boroughs and o.duty_role == "response") or o.unit == "RTPC")
            and not {"DRIVER", "PO_L1", "PO_L2"} & set(o.skills)
        )
        if eligible:
            seen[o.unit] += 1
            if seen[o.unit] % 8 == 0:
                o = _replace(o, skills=tuple(sorted((*o.skills, "DRIVER"))))
        out.append(o)
    return _replace(problem, officers=tuple(out))


# --------------------------------------------------------------------------- events

# Evening venues in central London: (kind, venue, borough name).
_EVENING_VENUES: tuple[tuple[str, str, str], ...] = (
    ("concert", "Royal Albert Hall", "Kensington and Chelsea"),
    ("concert", "Roundhouse", "Camden"),
    ("concert", "O2 Academy Brixton", "Lambeth"),
    ("concert", "Royal Festival Hall", "Lambeth"),
    ("concert", "London Palladium", "Westminster"),
    ("concert", "Troxy", "Tower Hamlets"),
    ("demonstration", "Parliament Square", "Westminster"),
    ("demonstration", "Whitehall", "Westminster"),
    ("demonstration", "Downing Street", "Westminster"),
    ("demonstration", "Trafalgar Square", "Westminster"),
    ("demonstration", "Tavistock Square", "Camden"),
    ("demonstration", "Borough High Street", "Southwark"),
    ("demonstration", "Tower Hill", "Tower Hamlets"),
)


def early_critical_days(problem: PlanningProblem) -> list[dt.date]:
    """Days with a tour of a planned critical event starting before 10:00, in the horizon."""
    days: set[dt.date] = set()
    for event in problem.events:
        if event.priority != "critical" or event.status != "planned" or not event.demand:
            continue
        for tour in event_tours(event, problem.policy):
            if tour.start.time() < EARLY_TOUR_BEFORE and problem.start <= tour.day <= problem.end:
                days.add(tour.day)
    return sorted(days)


def late_eve_before_major(problem: PlanningProblem) -> PlanningProblem:
    """Two to four evening concerts or protests (19:00-23:00, Level 2 serials) in central London the
    night before each early critical tour: officers who police them cannot lawfully start at dawn."""
    rng = _rng("late_eve_before_major", problem)
    year = problem.start.year
    ev = _Events(year, _borough_codes(problem))
    for day in early_critical_days(problem):
        eve = day - _DAY
        if eve < problem.start:
            continue
        start = dt.datetime.combine(eve, dt.time(19, 0))
        for kind, venue, borough in rng.sample(_EVENING_VENUES, rng.randint(2, 4)):
            n = rng.randint(60, 220)
            parts = {"serial_l2": max(2, round(n * 0.45 / 8)), "bronze" if n >= 100 else "inspector": 1}
            priority: Priority = "high" if n >= 140 else "normal"
            if kind == "concert":
                parts["dog"] = 2 if n >= 150 else 0
                name = f"Evening concert, {venue}"
                notified = eve - dt.timedelta(days=rng.randint(60, 180))
            else:
                parts["plo"] = 1 + (n >= 150)
                name = f"Evening protest: {rng.choice(_CAUSES)} ({venue})"
                notified = eve - dt.timedelta(days=rng.randint(1, 10))
            ev.add(
                name,
                "concert" if kind == "concert" else "demonstration",
                borough,
                start,
                start + dt.timedelta(hours=4),
                _fill(n, parts),
                priority,
                notified,
                venue=venue,
            )
    return _with_events(problem, ev.items, "EVE")


# Real London derbies, in the order they are taken; each club plays once.
_DERBIES: tuple[tuple[str, str, str], ...] = (
    ("Arsenal", "Tottenham Hotspur", "Premier League"),
    ("Millwall", "Charlton Athletic", "Championship"),
    ("West Ham United", "Chelsea", "Premier League"),
    ("Crystal Palace", "Fulham", "Premier League"),
    ("Leyton Orient", "AFC Wimbledon", "League One"),
    ("Bromley", "Barnet", "League Two"),
)
_KICKOFFS = ((12, 30), (15, 0), (17, 30))


def derby_saturday(year: int) -> dt.date:
    """The Saturday before Notting Hill Carnival (the last Monday in August, less two days)."""
    return _last_weekday(year, 8, MON) - 2 * _DAY


def _derby_parts(rng: random.Random) -> dict[str, int]:
    """A high-risk (C-IR) derby: planner.demo._football_parts' C-IR mix, 450-500 officers."""
    n = rng.randint(450, 500)
    return _fill(
        n,
        {
            "psu_l2": rng.randint(5, 7),
            "serial_l2": rng.randint(16, 20),
            "serial_l1": rng.randint(4, 5),
            "mounted": rng.randint(12, 14),
            "dog": rng.randint(8, 9),
            "bronze": 3,
            "silver": 1,
            "gold": 1,
            "medic": 3,
            "polsa": 1,
        },
    )


def _is_match_of(event: Event, clubs: set[str]) -> bool:
    teams = event.name.split(" (", 1)[0].split(" v ")
    return event.kind == "football" and any(t in clubs for t in teams)


def derby_bank_holiday(problem: PlanningProblem) -> PlanningProblem:
    """Four to six critical C-IR London derbies on the Saturday before the two Carnival days: a
    bank-holiday weekend where derbies and Carnival draw on the same Level 2 pool.

    The derbies take that Saturday's fixtures of the clubs they involve (a club plays once a day):
    those matches are left out of the calendar."""
    rng = _rng("derby_bank_holiday", problem)
    year = problem.start.year
    day = derby_saturday(year)
    if not problem.start <= day <= problem.end:
        return problem
    grounds = {club: (ground, borough) for club, ground, borough, _ in _CLUBS}
    derbies = _DERBIES[: rng.randint(4, 6)]
    clubs = {c for home, away, _ in derbies for c in (home, away)}
    drop = [e.external_id for e in problem.events if e.start.date() == day and _is_match_of(e, clubs)]
    ev = _Events(year, _borough_codes(problem))
    for home, away, comp in derbies:
        ground, borough = grounds[home]
        kickoff = dt.datetime.combine(day, dt.time(*rng.choice(_KICKOFFS)))
        ev.add(
            f"{home} v {away} ({comp})",
            "football",
            borough,
            kickoff - dt.timedelta(hours=3),
            kickoff + dt.timedelta(hours=3),
            _derby_parts(rng),
            "critical",
            dt.date(year, 6, 17),
            grade="C-IR",
            venue=ground,
        )
    return _with_events(problem, ev.items, "DERBY", drop=drop)


# --------------------------------------------------------------------------- registry


def compose(*steps: Transform) -> Transform:
    """One transformation applying `steps` in order."""

    def apply(problem: PlanningProblem) -> PlanningProblem:
        for step in steps:
            problem = step(problem)
        return problem

    apply.__name__ = " + ".join(getattr(s, "__name__", "step") for s in steps)
    apply.__doc__ = "; ".join((s.__doc__ or "").split("\n")[0] for s in steps)
    return apply


TRANSFORMS: dict[str, Transform] = {
    f.__name__: f
    for f in (
        day_tours,
        weekday_investigators,
        central_aid_pool,
        driver_without_level,
        plain_drivers,
        late_eve_before_major,
        derby_bank_holiday,
    )
}

# Named combinations for the benchmark. In hard_weekends the derbies come before the evening
# events so that their 12:30 kick-offs also get a late night before them.
COMPOSITES: dict[str, tuple[str, ...]] = {
    "uniform_day_roster": ("day_tours", "weekday_investigators", "central_aid_pool"),
    "hard_weekends": ("driver_without_level", "plain_drivers", "derby_bank_holiday", "late_eve_before_major"),
}

VARIANTS: dict[str, Transform] = {
    **TRANSFORMS,
    **{name: compose(*(TRANSFORMS[s] for s in steps)) for name, steps in COMPOSITES.items()},
}

DEFAULT_BENCH_VARIANTS: tuple[str, ...] = tuple(COMPOSITES)


def apply_variant(name: str, problem: PlanningProblem) -> PlanningProblem:
    try:
        transform = VARIANTS[name]
    except KeyError:
        raise KeyError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}") from None
    return transform(problem)


def variant_problem(name: str, year: int = 2027, seed: int = 7) -> PlanningProblem:
    """The demo year transformed by the named variant."""
    return apply_variant(name, demo_problem(year=year, seed=seed))


# --------------------------------------------------------------------------- checks


def problem_issues(problem: PlanningProblem) -> list[str]:
    """What would make the problem unusable by the solver; empty when it is sound."""
    issues: list[str] = []
    org, policy = problem.organisation, problem.policy
    boroughs = {b.code for b in org.boroughs}
    units = set(org.unit_codes())
    if len(units) != len(org.boroughs) + len(org.central_units):
        issues.append("duplicate unit codes")
    for code in (u.base_borough for u in org.central_units):
        if code not in boroughs:
            issues.append(f"central unit based in unknown borough {code}")
    for name, pattern in policy.shift_patterns.items():
        for c in set(pattern.cycle) - {REST} - set(policy.tour_times):
            issues.append(f"shift pattern {name} uses unknown tour {c!r}")
    numbers = Counter(o.service_number for o in problem.officers)
    issues += [f"service number {n} used {k} times" for n, k in numbers.items() if k > 1]
    for o in problem.officers:
        if o.unit not in units:
            issues.append(f"officer {o.service_number} in unknown unit {o.unit}")
        roster = policy.shift_patterns.get(o.shift_pattern)
        if roster is None:
            issues.append(f"officer {o.service_number} on unknown pattern {o.shift_pattern}")
        elif not 0 <= o.pattern_offset < len(roster.cycle):
            issues.append(f"officer {o.service_number} has offset {o.pattern_offset} out of its cycle")
        if list(o.skills) != sorted(set(o.skills)):
            issues.append(f"officer {o.service_number} skills not sorted and unique")
    ids = Counter(e.external_id for e in problem.events)
    issues += [f"event id {i} used {k} times" for i, k in ids.items() if k > 1]
    for e in problem.events:
        if e.borough not in boroughs:
            issues.append(f"event {e.external_id} in unknown borough {e.borough}")
        if not e.start < e.end:
            issues.append(f"event {e.external_id} does not end after it starts")
        if e.notified is not None and e.notified > e.start.date():
            issues.append(f"event {e.external_id} notified after it starts")
        for d in e.demand:
            if d.role not in policy.roles or d.count < 1:
                issues.append(f"event {e.external_id} demands {d.count} of {d.role}")
    keys = [_event_sort_key(e) for e in problem.events]
    if keys != sorted(keys):
        issues.append("events are not in chronological order")
    return issues
