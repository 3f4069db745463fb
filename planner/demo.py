"""A deterministic, seeded London policing year for demos, tests and benchmarks.

`demo_problem(year, seed)` builds about 32,000 officers (32 borough commands plus the central units)
and 4,000+ events: demonstrations and marches, London football, the big fixed events (Notting Hill
Carnival, New Year's Eve, the Marathon, Trooping the Colour...), concerts, sport and community events.
Sizes follow the figures in the shared domain notes; names and details are synthetic. Everything
comes from one `random.Random(seed)` consumed in a fixed order, so a seed always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence

import msgspec

from planner.domain import (
    RANKS,
    DateRange,
    DutyRole,
    Event,
    EventKind,
    Floors,
    FootballGrade,
    Officer,
    PlanningProblem,
    Policy,
    Priority,
    Rank,
    RoleDemand,
    default_roles,
    default_shift_patterns,
)
from planner.reference import borough_officer_estimates, london

_ROLE_SIZE: dict[str, int] = {key: spec.size for key, spec in default_roles().items()}
_ROLE_ORDER: tuple[str, ...] = tuple(default_roles())
_DAY = dt.timedelta(days=1)

# Share of Specialist Crime and Operations who are accredited detectives. Chosen so the force-wide
# share stays near the published 22% (6,811 of ~31,000), given the borough estimates already hold
# 22% of borough officers.
SPEC_DETECTIVE_SHARE = 0.28

# --------------------------------------------------------------------------- calendar


def easter_sunday(year: int) -> dt.date:
    """Western Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _on_or_after(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    last = dt.date(year + month // 12, month % 12 + 1, 1) - _DAY
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _weekday_from(year: int, month: int, day: int, weekday: int) -> dt.date:
    """The first `weekday` (0 = Monday) on or after year-month-day."""
    return _on_or_after(dt.date(year, month, day), weekday)


MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def england_bank_holidays(year: int) -> tuple[dt.date, ...]:
    """England and Wales bank holidays, with substitute days for weekend New Year and Christmas.

    One-off proclamations (jubilees, coronations, a moved early-May holiday) are not modelled."""
    easter = easter_sunday(year)
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() >= SAT:
        new_year = _on_or_after(new_year, MON)
    christmas, boxing = dt.date(year, 12, 25), dt.date(year, 12, 26)
    if christmas.weekday() == SAT:
        christmas, boxing = dt.date(year, 12, 27), dt.date(year, 12, 28)
    elif christmas.weekday() == SUN:
        christmas = dt.date(year, 12, 27)
    elif boxing.weekday() == SAT:
        boxing = dt.date(year, 12, 28)
    return tuple(
        sorted(
            {
                new_year,
                easter - 2 * _DAY,
                easter + _DAY,
                _weekday_from(year, 5, 1, MON),
                _last_weekday(year, 5, MON),
                _last_weekday(year, 8, MON),
                christmas,
                boxing,
            }
        )
    )


# --------------------------------------------------------------------------- demand helpers


def officer_demand(event: Event, policy: Policy) -> int:
    """Officers one tour of the event needs (units count their full size)."""
    return sum(policy.roles[d.role].size * d.count for d in event.demand)


def _fill(total: int, parts: dict[str, int]) -> dict[str, int]:
    """Top `parts` up to `total` officers with Level 3 constables and one sergeant per ten."""
    rest = total - sum(_ROLE_SIZE[role] * count for role, count in parts.items())
    if rest < 0:
        raise ValueError(f"demand parts exceed {total} officers")
    out = dict(parts)
    sergeants = rest // 11
    if sergeants == 0 and rest >= 3 and not out.get("sergeant"):
        sergeants = 1  # every group of constables has a supervisor
    out["sergeant"] = out.get("sergeant", 0) + sergeants
    out["constable"] = out.get("constable", 0) + rest - sergeants
    return out


def _demand(parts: dict[str, int]) -> tuple[RoleDemand, ...]:
    return tuple(RoleDemand(role=r, count=parts[r]) for r in _ROLE_ORDER if parts.get(r, 0) > 0)


def _protest_parts(n: int, rng: random.Random, march: bool) -> dict[str, int]:
    """Demand mix for a protest needing `n` officers per tour."""
    p: dict[str, int] = {}
    if n < 30:
        if n >= 6 and rng.random() < 0.4:
            p["plo"] = 1
        if n >= 20:
            p["inspector"] = 1
    elif n < 300:
        share = rng.uniform(0.45, 0.7) if march else rng.uniform(0.3, 0.6)
        p["serial_l2"] = max(1, round(n * share / 8))
        p["plo"] = 1 + (n >= 100) + (n >= 200)
        # A Bronze commands the bigger ones; an inspector the rest.
        p["bronze" if n >= 60 else "inspector"] = 1
        if n >= 120:
            p["inspector"] = 1
        if march and n >= 120:
            p["dog"] = 2
            p["mounted"] = 2 if n >= 200 else 0
    else:
        p["psu_l2"] = max(1, round(n * rng.uniform(0.3, 0.42) / 25))
        p["serial_l1"] = max(1, round(n * rng.uniform(0.06, 0.12) / 8))
        p["serial_l2"] = round(n * rng.uniform(0.12, 0.22) / 8)
        p["mounted"] = max(4, round(n * 0.02)) if march else (2 if n >= 800 else 0)
        p["dog"] = max(2, round(n * 0.012))
        p["silver"] = 1
        p["gold"] = 1 if n >= 1500 else 0
        p["bronze"] = max(2, n // 250)
        p["plo"] = max(2, n // 150)
        p["polsa"] = 1 if n >= 800 else 0
        p["medic"] = n // 250
        p["inspector"] = n // 300
    return _fill(n, p)


def protest_demand(n: int, rng: random.Random, march: bool) -> tuple[RoleDemand, ...]:
    """The demo's demand mix for a protest of `n` officers a tour (short-notice streams use it)."""
    return _demand(_protest_parts(n, rng, march))


# --------------------------------------------------------------------------- reference tables

_FIRST = (
    "James", "Oliver", "Mohammed", "Daniel", "Thomas", "Adam", "Samuel", "Joseph", "David", "Ryan",
    "Kwame", "Arjun", "Luke", "Matthew", "Ben", "Tom", "Chris", "Michael", "Aaron", "Hassan",
    "Sarah", "Emma", "Sophie", "Olivia", "Amelia", "Priya", "Aisha", "Laura", "Hannah", "Rebecca",
    "Charlotte", "Jessica", "Fatima", "Grace", "Chloe", "Zara", "Emily", "Lucy", "Natalie", "Amara",
)
_LAST = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall",
    "Wood", "Harris", "Lewis", "Martin", "Jackson", "Clarke", "Clark", "Turner", "Hill", "Scott",
    "Cooper", "Morris", "Ward", "Moore", "King", "Watson", "Baker", "Harrison", "Morgan", "Patel",
    "Khan", "Ahmed", "Ali", "Begum", "Singh", "Shah", "Okafor", "Mensah", "Adeyemi", "Campbell",
    "Murphy", "Kelly", "O'Brien", "Nowak", "Kowalski", "Rossi", "Silva", "Costa", "Chen", "Nguyen",
)

_CAUSES = (
    "climate action", "cost of living", "housing and rents", "NHS funding", "public sector pay",
    "foreign policy", "animal welfare", "peace and disarmament", "immigration policy", "road safety",
    "tuition fees", "free speech", "human rights abroad", "diaspora solidarity", "local service cuts",
    "planning decision", "transport fares", "women's safety", "racial justice", "pensions",
    "workers' rights", "energy prices", "disability benefits", "religious freedom", "digital privacy",
)

_PLACES: dict[str, tuple[str, ...]] = {
    "Westminster": (
        "Parliament Square", "Whitehall", "Downing Street", "Trafalgar Square", "Hyde Park Corner",
        "Portland Place", "Grosvenor Square", "Marble Arch", "Oxford Circus", "Millbank",
    ),
    "Camden": ("Tavistock Square", "Euston Road", "Camden Town Hall", "King's Cross", "Russell Square"),
    "Kensington and Chelsea": (
        "Kensington High Street", "Kensington Palace Gardens", "Sloane Square", "Exhibition Road",
    ),
    "Lambeth": ("Lambeth Town Hall", "Windrush Square", "South Bank", "Vauxhall Cross"),
    "Southwark": ("City Hall", "Borough High Street", "Elephant and Castle", "Peckham Square"),
    "Tower Hamlets": ("Altab Ali Park", "Canary Wharf", "Whitechapel", "Tower Hill"),
    "Wandsworth": ("Nine Elms", "Clapham Junction"),
}

# Demonstration share by borough; the rest is shared by population.
_DEMO_SHARE = {
    "Westminster": 0.45,
    "Camden": 0.07,
    "Kensington and Chelsea": 0.05,
    "Lambeth": 0.045,
    "Southwark": 0.035,
    "Tower Hamlets": 0.035,
}

# (club, ground, borough, league)
_CLUBS: tuple[tuple[str, str, str, str], ...] = (
    ("Arsenal", "Emirates Stadium", "Islington", "PL"),
    ("Chelsea", "Stamford Bridge", "Hammersmith and Fulham", "PL"),
    ("Tottenham Hotspur", "Tottenham Hotspur Stadium", "Haringey", "PL"),
    ("West Ham United", "London Stadium", "Newham", "PL"),
    ("Crystal Palace", "Selhurst Park", "Croydon", "PL"),
    ("Fulham", "Craven Cottage", "Hammersmith and Fulham", "PL"),
    ("Brentford", "Gtech Community Stadium", "Hounslow", "PL"),
    ("Queens Park Rangers", "Loftus Road", "Hammersmith and Fulham", "CH"),
    ("Millwall", "The Den", "Lewisham", "CH"),
    ("Charlton Athletic", "The Valley", "Greenwich", "CH"),
    ("Leyton Orient", "Brisbane Road", "Waltham Forest", "L1"),
    ("AFC Wimbledon", "Plough Lane", "Merton", "L1"),
    ("Bromley", "Hayes Lane", "Bromley", "L2"),
    ("Barnet", "The Hive London", "Harrow", "L2"),
)
# Neighbouring grounds are paired so they are never at home on the same day (a real fixture rule).
_PAIRS = (("Arsenal", "Tottenham Hotspur"), ("Chelsea", "Fulham"), ("Millwall", "Charlton Athletic"))
_HIGH_RISK = {
    frozenset(p)
    for p in (
        ("Arsenal", "Tottenham Hotspur"),
        ("Chelsea", "Tottenham Hotspur"),
        ("West Ham United", "Tottenham Hotspur"),
        ("Crystal Palace", "Brighton & Hove Albion"),
        ("Millwall", "Charlton Athletic"),
    )
}
_BIG_AWAY = ("Manchester United", "Manchester City", "Liverpool", "Newcastle United", "Leeds United")
_OPPONENTS: dict[str, tuple[str, ...]] = {
    "PL": (
        "Liverpool", "Manchester City", "Manchester United", "Newcastle United", "Aston Villa",
        "Brighton & Hove Albion", "Bournemouth", "Nottingham Forest", "Everton",
        "Wolverhampton Wanderers", "Leeds United", "Sunderland", "Burnley",
    ),
    "CH": (
        "Birmingham City", "Leicester City", "Ipswich Town", "Southampton", "Sheffield United",
        "Sheffield Wednesday", "Middlesbrough", "Coventry City", "Norwich City", "West Bromwich Albion",
        "Stoke City", "Hull City", "Derby County", "Preston North End", "Bristol City",
        "Blackburn Rovers", "Portsmouth", "Watford", "Swansea City", "Oxford United", "Wrexham",
    ),
    "L1": (
        "Luton Town", "Bolton Wanderers", "Huddersfield Town", "Stockport County", "Wigan Athletic",
        "Reading", "Peterborough United", "Barnsley", "Exeter City", "Lincoln City", "Stevenage",
        "Plymouth Argyle", "Cardiff City", "Blackpool", "Mansfield Town", "Rotherham United",
        "Wycombe Wanderers", "Burton Albion", "Northampton Town", "Doncaster Rovers", "Port Vale",
        "Bradford City",
    ),
    "L2": (
        "Gillingham", "Notts County", "MK Dons", "Swindon Town", "Walsall", "Chesterfield",
        "Crewe Alexandra", "Grimsby Town", "Cheltenham Town", "Salford City", "Colchester United",
        "Tranmere Rovers", "Accrington Stanley", "Barrow", "Bristol Rovers", "Cambridge United",
        "Crawley Town", "Fleetwood Town", "Harrogate Town", "Newport County", "Oldham Athletic",
        "Shrewsbury Town",
    ),
}
_LEAGUE_NAME = {"PL": "Premier League", "CH": "Championship", "L1": "League One", "L2": "League Two"}
_ROUNDS = {"PL": 38, "CH": 46, "L1": 46, "L2": 46}
_EUROPE = (
    "Bayern Munich", "Real Madrid", "Ajax", "Feyenoord", "Galatasaray", "PSV Eindhoven", "Benfica",
    "Sporting CP", "Celtic", "Club Brugge", "Olympiacos", "Legia Warsaw", "Napoli", "Marseille",
)
_RISKY_EUROPE = ("Feyenoord", "Galatasaray", "Olympiacos", "Legia Warsaw", "Napoli", "Marseille")


# --------------------------------------------------------------------------- officers


class _Rec:
    """A mutable officer under construction (Officer is frozen)."""

    __slots__ = ("unit", "rank", "role", "skills", "pattern", "offset")

    def __init__(self, unit: str, rank: Rank, role: DutyRole, pattern: str) -> None:
        self.unit = unit
        self.rank: Rank = rank
        self.role: DutyRole = role
        self.skills: set[str] = set()
        self.pattern = pattern
        self.offset = 0


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """Largest-remainder split of `total` in proportion to `weights`."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    out = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _rank_counts(n: int, supt_min: int = 0, ci_min: int = 0) -> dict[Rank, int]:
    supt = max(supt_min, round(0.005 * n))
    ci = max(ci_min, round(0.015 * n))
    insp = round(0.04 * n)
    ps = round(0.14 * n)
    return {"SUPT": supt, "CI": ci, "INSP": insp, "PS": ps, "PC": n - supt - ci - insp - ps}


def _commander_skills(rec: _Rec, rng: random.Random, insp_bronze: float = 0.3) -> None:
    if rec.rank == "CI":
        if rng.random() < 0.8:
            rec.skills.add("BRONZE")
        if rng.random() < 0.15:
            rec.skills.add("SILVER")
    elif rec.rank == "SUPT":
        if rng.random() < 0.5:
            rec.skills.add("SILVER")
    elif rec.rank == "INSP" and rng.random() < insp_bronze:
        rec.skills.add("BRONZE")


def _public_order(
    rec: _Rec, rng: random.Random, share: float, driver: float = 0.2, medic: float = 0.12
) -> None:
    """Level 2 training, and for constables the carrier driver or medic skill."""
    p = share * (4 / 3) if rec.rank == "INSP" else share
    if rec.rank in ("PC", "PS", "INSP") and rng.random() < p:
        rec.skills.add("PO_L2")
        if rec.rank == "PC":
            r = rng.random()
            if r < driver:
                rec.skills.add("DRIVER")
            elif r < driver + medic:
                rec.skills.add("MEDIC")


_SENIOR_FIRST: tuple[Rank, ...] = ("SUPT", "CI", "INSP", "PS")


def _borough_officers(rng: random.Random) -> list[_Rec]:
    recs: list[_Rec] = []
    patterns: dict[DutyRole, str] = {
        "investigation": "5x2", "response": "response", "neighbourhood": "neighbourhood"
    }
    for code, (n, detectives) in sorted(borough_officer_estimates().items()):
        response = round(0.45 * n)
        sizes: dict[DutyRole, int] = {
            "investigation": detectives, "response": response, "neighbourhood": n - detectives - response
        }
        roles = list(sizes)
        ranks = _rank_counts(n, supt_min=1, ci_min=2)
        per_role: dict[DutyRole, dict[Rank, int]] = {r: {} for r in roles}
        for rank in _SENIOR_FIRST:
            for role, k in zip(roles, _split(ranks[rank], [sizes[r] for r in roles]), strict=True):
                per_role[role][rank] = k
        for role in roles:
            per_role[role]["PC"] = sizes[role] - sum(per_role[role].values())
            for rank in RANKS:
                for _ in range(per_role[role].get(rank, 0)):
                    # Senior officers keep office hours whatever their command.
                    pattern = "5x2" if rank in ("CI", "SUPT") else patterns[role]
                    rec = _Rec(code, rank, role, pattern)
                    if role == "investigation":
                        rec.skills.add("DETECTIVE")
                        _public_order(rec, rng, 0.05)
                    else:
                        _public_order(rec, rng, 0.30)
                        if rank in ("PC", "PS") and rng.random() < 0.012:
                            rec.skills.add("PLO")
                        if rank in ("PS", "INSP") and rng.random() < 0.005:
                            rec.skills.add("POLSA")
                    _commander_skills(rec, rng)
                    recs.append(rec)
    return recs


def _central_officers(rng: random.Random) -> list[_Rec]:
    recs: list[_Rec] = []

    def add(unit: str, counts: dict[Rank, int], pattern: str) -> list[_Rec]:
        made = []
        for rank in RANKS:
            for _ in range(counts.get(rank, 0)):
                made.append(_Rec(unit, rank, "central", "5x2" if rank in ("CI", "SUPT") else pattern))
        recs.extend(made)
        return made

    # Territorial Support Group: full-time Level 1; PS about 1 in 8, INSP about 1 in 25.
    for rec in add("TSG", {"SUPT": 1, "CI": 3, "INSP": 32, "PS": 100, "PC": 664}, "neighbourhood"):
        rec.skills.add("PO_L1")
        if rec.rank == "PC":
            r = rng.random()
            if r < 0.2:
                rec.skills.add("DRIVER")
            elif r < 0.32:
                rec.skills.add("MEDIC")
        _commander_skills(rec, rng, insp_bronze=0.5)
    for rec in add("MOUNTED", {"PS": 15, "PC": 120}, "neighbourhood"):
        rec.skills.add("MOUNTED")
    for rec in add("DOGS", {"CI": 1, "INSP": 6, "PS": 28, "PC": 215}, "response"):
        if rec.rank in ("PC", "PS"):
            rec.skills.add("DOG")
        _commander_skills(rec, rng)
    for rec in add("RTPC", _rank_counts(2200), "response"):
        _public_order(rec, rng, 0.25, driver=0.35, medic=0.10)
        _commander_skills(rec, rng)
    for rec in add("SPEC", _rank_counts(12500), "5x2"):
        if rng.random() < SPEC_DETECTIVE_SHARE:
            rec.skills.add("DETECTIVE")
        _public_order(rec, rng, 0.05)
        if rec.rank in ("PC", "PS") and rng.random() < 0.005:
            rec.skills.add("PLO")
        if rec.rank in ("PS", "INSP") and rng.random() < 0.03:
            rec.skills.add("POLSA")  # search teams sit in Met Operations
        _commander_skills(rec, rng)
    return recs


def _assign_offsets(recs: list[_Rec], rng: random.Random) -> None:
    """Spread each unit's pattern offsets round-robin within rank and skill so every day of the cycle
    has about the same officers of each kind on duty."""
    cycles = {key: len(p.cycle) for key, p in default_shift_patterns().items()}
    rank_index = {r: i for i, r in enumerate(RANKS)}
    groups: dict[tuple[str, str], list[int]] = {}
    for i, rec in enumerate(recs):
        groups.setdefault((rec.unit, rec.pattern), []).append(i)
    for (_, pattern), members in groups.items():
        length = cycles[pattern]
        base = rng.randrange(length)
        members.sort(key=lambda i: (rank_index[recs[i].rank], sorted(recs[i].skills), i))
        for pos, i in enumerate(members):
            recs[i].offset = (base + pos) % length


def _leave_windows(year: int) -> tuple[list[tuple[dt.date, dt.date]], list[float]]:
    """Where leave blocks start: school holidays are favoured."""
    easter = easter_sunday(year)
    windows = [
        (dt.date(year, 7, 15), dt.date(year, 9, 6)),  # summer holidays
        (dt.date(year, 12, 17), dt.date(year, 12, 31)),  # Christmas
        (easter - dt.timedelta(days=14), easter + dt.timedelta(days=9)),
        (_weekday_from(year, 2, 12, MON) - 2 * _DAY, _weekday_from(year, 2, 12, MON) + 8 * _DAY),
        (_last_weekday(year, 5, MON) - 2 * _DAY, _last_weekday(year, 5, MON) + 8 * _DAY),
        (_weekday_from(year, 10, 21, MON) - 2 * _DAY, _weekday_from(year, 10, 21, MON) + 8 * _DAY),
        (dt.date(year, 1, 1), dt.date(year, 12, 31)),
    ]
    return windows, [0.20, 0.05, 0.07, 0.03, 0.04, 0.04, 0.57]


def _leave(rng: random.Random, year: int, windows: list[tuple[dt.date, dt.date]],
           cum: list[float]) -> tuple[DateRange, ...]:
    """About 25 days a year (22-30, counted in calendar days) in three blocks of 3-10 days."""
    total = rng.randint(22, 30)
    first = rng.randint(max(3, total - 20), min(10, total - 6))
    second = rng.randint(max(3, total - first - 10), min(10, total - first - 3))
    lengths = sorted((first, second, total - first - second), reverse=True)
    year_start, year_end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    blocks: list[DateRange] = []
    for length in lengths:
        for attempt in range(40):
            lo, hi = windows[-1] if attempt >= 10 else rng.choices(windows, cum_weights=cum)[0]
            lo = max(lo, year_start)
            hi = min(hi, year_end) - dt.timedelta(days=length - 1)
            if hi < lo:
                continue
            start = lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))
            end = start + dt.timedelta(days=length - 1)
            # Keep blocks apart by at least a week.
            if all(end + 7 * _DAY < b.start or start > b.end + 7 * _DAY for b in blocks):
                blocks.append(DateRange(start=start, end=end))
                break
    return tuple(sorted(blocks, key=lambda b: b.start))


def _officers(rng: random.Random, year: int) -> tuple[Officer, ...]:
    recs = _borough_officers(rng) + _central_officers(rng)
    # A few Gold commanders force-wide, all superintendents.
    supts = [i for i, r in enumerate(recs) if r.rank == "SUPT"]
    for i in rng.sample(supts, min(24, len(supts))):
        recs[i].skills.add("GOLD")
    _assign_offsets(recs, rng)
    numbers = rng.sample(range(100000, 1000000), len(recs))
    windows, weights = _leave_windows(year)
    cum = [sum(weights[: i + 1]) for i in range(len(weights))]
    out = []
    for rec, number in zip(recs, numbers, strict=True):
        out.append(
            Officer(
                service_number=f"MP{number:06d}",
                unit=rec.unit,
                rank=rec.rank,
                duty_role=rec.role,
                skills=tuple(sorted(rec.skills)),
                shift_pattern=rec.pattern,
                pattern_offset=rec.offset,
                leave=_leave(rng, year, windows, cum),
                name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- events


class _Events:
    """Collects events; ids are given at the end in chronological order."""

    def __init__(self, year: int, codes: dict[str, str]) -> None:
        self.year = year
        self.codes = codes  # borough name -> ONS code
        self.items: list[Event] = []
        self.first = dt.date(year, 1, 1)
        self.last = dt.date(year, 12, 31)

    def add(
        self,
        name: str,
        kind: EventKind,
        borough: str,
        start: dt.datetime,
        end: dt.datetime,
        parts: dict[str, int],
        priority: Priority,
        notified: dt.date,
        grade: FootballGrade | None = None,
        venue: str = "",
    ) -> None:
        if not self.first <= start.date() <= self.last:
            return
        self.items.append(
            Event(
                external_id="",
                name=name,
                kind=kind,
                borough=self.codes[borough],
                start=start,
                end=end,
                priority=priority,
                demand=_demand(parts),
                grade=grade,
                venue=venue,
                notified=min(notified, start.date()),
            )
        )

    def add_sized(
        self, name: str, kind: EventKind, borough: str, start: dt.datetime, hours: float, total: int,
        priority: Priority, notified: dt.date, venue: str = "", **parts: int,
    ) -> None:
        end = start + dt.timedelta(hours=hours)
        self.add(name, kind, borough, start, end, _fill(total, parts), priority, notified, venue=venue)

    def finish(self) -> tuple[Event, ...]:
        order = sorted(
            range(len(self.items)),
            key=lambda i: (self.items[i].start, self.items[i].end, self.items[i].borough,
                           self.items[i].name, i),
        )
        return tuple(
            msgspec.structs.replace(self.items[i], external_id=f"DEMO-{self.year}-{n:05d}")
            for n, i in enumerate(order, start=1)
        )


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def _annual_notice(year: int) -> dt.date:
    """Annual fixtures are known well before the roster is published."""
    return dt.date(year - 1, 10, 1)


# ---- football


def _season_rounds(season: int, league: str, rng: random.Random) -> list[tuple[dt.date, str]]:
    """Nominal round dates for one league season: ("sat" | "mid" | "hol" | "final")."""
    pl = league == "PL"
    start = _weekday_from(season, 8, 13, SAT) - (dt.timedelta(0) if pl else 7 * _DAY)
    if pl:
        final = _weekday_from(season + 1, 5, 18, SUN)
        last_sat = final - 8 * _DAY
    else:
        final = None
        last_sat = _weekday_from(season + 1, 5, 2, SAT)
    breaks = {
        _weekday_from(season, 9, 5, SAT), _weekday_from(season, 10, 10, SAT),
        _weekday_from(season, 11, 12, SAT), _weekday_from(season + 1, 3, 20, SAT),
    }
    holidays = {dt.date(season, 12, 26), dt.date(season + 1, 1, 1)}
    sats: list[dt.date] = []
    day = start
    while day <= last_sat:
        if not (pl and day in breaks) and (day.month, day.day) not in ((12, 24), (12, 25)):
            sats.append(day)
        day += 7 * _DAY
    rounds: dict[dt.date, str] = {d: "sat" for d in sats}
    for d in sorted(holidays):
        rounds.setdefault(d, "hol")
    if final is not None:
        rounds[final] = "final"
    need = _ROUNDS[league]
    if len(rounds) > need:
        # Drop cup weekends (January and February first).
        spare = [d for d in sats if d.month in (1, 2)] or sats
        for d in rng.sample(spare, len(rounds) - need):
            del rounds[d]
    if len(rounds) < need:
        busy = set(rounds)
        tuesdays = []
        day = _weekday_from(season, 9, 1, TUE)
        while day < dt.date(season + 1, 4, 30):
            if all(abs((day - b).days) > 2 for b in busy):
                tuesdays.append(day)
            day += 7 * _DAY
        for d in rng.sample(tuesdays, need - len(rounds)):
            rounds[d] = "mid"
    return sorted(rounds.items())


def _home_pattern(n: int, rng: random.Random) -> list[bool]:
    """Alternating home and away with occasional consecutive pairs; exactly half at home."""
    first = rng.random() < 0.5
    seq = [(i % 2 == 0) == first for i in range(n)]
    for i in range(n - 1):
        if rng.random() < 0.12:
            seq[i], seq[i + 1] = seq[i + 1], seq[i]
    return seq


def _grade(home: str, away: str, league: str, london: set[str], rng: random.Random) -> FootballGrade:
    if frozenset((home, away)) in _HIGH_RISK:
        return "C-IR"
    if away in london:
        return "C" if league == "PL" or "Millwall" in (home, away) else "B"
    if home == "Millwall":
        return "C" if rng.random() < 0.35 else "B"
    r = rng.random()
    if league == "PL":
        if away in _BIG_AWAY:
            return "C" if r < 0.5 else "B"
        return "B" if r < 0.7 else "A"
    if league == "CH":
        return "B" if r < 0.25 else "A"
    if home in ("Bromley", "Barnet") and r < 0.12:
        return "police-free"
    return "B" if r > 0.9 else "A"


def _football_parts(grade: FootballGrade, pl: bool, rng: random.Random) -> dict[str, int]:
    if grade == "police-free":
        return {}
    if grade == "A":
        n = rng.randint(15, 45)
        p = {"inspector": 1, "serial_l2": 1 if n >= 30 else 0, "dog": 1 if n >= 25 else 0}
    elif grade == "B":
        n = rng.randint(60, 150)
        p = {"serial_l2": round(n * 0.5 / 8), "bronze": 1, "inspector": 1, "dog": 2,
             "mounted": rng.randint(2, 4) if pl else 0}
    elif grade == "C":
        n = rng.randint(200, 380)
        p = {"psu_l2": rng.randint(2, 4), "serial_l2": round(n * 0.3 / 8), "serial_l1": 2,
             "mounted": rng.randint(6, 10), "dog": rng.randint(4, 6), "bronze": 2, "silver": 1, "medic": 2}
    else:  # C-IR
        n = rng.randint(450, 520)
        p = {"psu_l2": rng.randint(5, 7), "serial_l2": rng.randint(16, 20), "serial_l1": rng.randint(4, 5),
             "mounted": rng.randint(12, 14), "dog": rng.randint(8, 9), "bronze": 3, "silver": 1, "gold": 1,
             "medic": 3, "polsa": 1}
    return _fill(n, p)


_PRIORITY_BY_GRADE: dict[str, Priority] = {
    "police-free": "low", "A": "normal", "B": "normal", "C": "high", "C-IR": "high"
}


def _kickoff(tag: str, day: dt.date, pl: bool, hard: bool, rng: random.Random) -> dt.datetime:
    r = rng.random()
    if tag == "final":
        return _at(day, 16)
    if tag == "hol":
        return _at(day, *((12, 30), (15, 0), (17, 30))[rng.randrange(3)])
    if tag == "mid":
        if r < 0.4:
            day += _DAY  # Wednesday
        return _at(day, 20) if pl and rng.random() < 0.5 else _at(day, 19, 45 if not pl else 30)
    if pl and not hard:
        if r < 0.4:
            return _at(day + _DAY, *((14, 0), (16, 30))[rng.randrange(2)])
        if r < 0.45:
            return _at(day - _DAY, 20)
        if r < 0.5:
            return _at(day + 2 * _DAY, 20)
    elif not pl and not hard and r < 0.12:
        return (_at(day - _DAY, 19, 45), _at(day, 12, 30), _at(day + _DAY, 12))[rng.randrange(3)]
    if pl:
        return _at(day, *((12, 30), (15, 0), (15, 0), (17, 30))[rng.randrange(4)])
    return _at(day, 15)


def _football(ev: _Events, year: int, hard_pick: random.Random, rng: random.Random) -> list[dt.date]:
    """Two seasons of London home fixtures clipped to `year`; returns the hard Saturdays chosen."""
    clubs = {c[0]: c for c in _CLUBS}
    london_names = set(clubs)
    leagues = ("PL", "CH", "L1", "L2")
    seasons = {s: {lg: _season_rounds(s, lg, rng) for lg in leagues} for s in (year - 1, year)}

    # Hard Saturdays: a full round in every league, spread through the year.
    full: list[dt.date] = []
    for by_league in seasons.values():
        sat_sets = [{d for d, tag in by_league[lg] if tag == "sat"} for lg in leagues]
        for d in sorted(set.intersection(*sat_sets)):
            in_window = dt.date(year, 1, 10) <= d <= dt.date(year, 4, 17) or (
                dt.date(year, 9, 11) <= d <= dt.date(year, 12, 11)
            )
            remembrance = _weekday_from(year, 11, 8, SUN)
            if in_window and abs((d - remembrance).days) > 1:
                full.append(d)
    full = sorted(set(full))
    buckets = _split(len(full), [1.0] * 7)
    hard: list[dt.date] = []
    pos = 0
    for size in buckets:
        if size:
            hard.append(full[pos + hard_pick.randrange(size)])
        pos += size

    paired = {c for pair in _PAIRS for c in pair}
    for season, by_league in seasons.items():
        index = {lg: {d: i for i, (d, _) in enumerate(by_league[lg])} for lg in leagues}
        home: dict[str, list[bool]] = {}
        for first, second in _PAIRS:
            home[first] = _home_pattern(_ROUNDS[clubs[first][3]], rng)
            home[second] = [not h for h in home[first]]
        for name, *_, league in _CLUBS:
            if name not in paired:
                home[name] = _home_pattern(_ROUNDS[league], rng)
        season_hard = [d for d in hard if all(d in index[lg] for lg in leagues)]
        for d in season_hard:
            # Force 7-10 London matches: the three pairs give three, the other clubs the rest.
            want = rng.randint(7, 10) - len(_PAIRS)
            others = [c for c, *_ in _CLUBS if c not in paired]
            at_home = [c for c in others if home[c][index[clubs[c][3]][d]]]
            away = [c for c in others if c not in at_home]
            flips = rng.sample(away, max(0, want - len(at_home))) if len(at_home) < want else \
                rng.sample(at_home, len(at_home) - want)
            for c in flips:
                seq, lg = home[c], clubs[c][3]
                i = index[lg][d]
                rounds = by_league[lg]
                for j in sorted(range(len(seq)), key=lambda j: (abs(j - i), j)):
                    if seq[j] != seq[i] and rounds[j][0] not in season_hard and rounds[j][1] != "final":
                        seq[i], seq[j] = seq[j], seq[i]
                        break
        # Opponents: each other league club once at home; a London visitor must be away that round.
        for name, ground, borough, league in _CLUBS:
            rounds = by_league[league]
            mine = [i for i, h in enumerate(home[name]) if h]
            league_london = [c for c, *_, lg in _CLUBS if lg == league and c != name]
            opps = list(_OPPONENTS[league]) + league_london
            rng.shuffle(opps)
            for k, i in enumerate(mine):
                if opps[k] in london_names and home[opps[k]][i]:
                    for m in range(k + 1, len(opps)):
                        if opps[m] not in london_names or not home[opps[m]][i]:
                            opps[k], opps[m] = opps[m], opps[k]
                            break
                day, tag = rounds[i]
                is_hard = day in season_hard
                grade = _grade(name, opps[k], league, london_names, rng)
                if is_hard and grade == "police-free":
                    grade = "A"
                _add_match(ev, rng, name, opps[k], _LEAGUE_NAME[league], ground, borough, grade,
                           _kickoff(tag, day, league == "PL", is_hard, rng), dt.date(season, 6, 17))
        # Cup and European home ties for the Premier League clubs, midweek evenings.
        for name, ground, borough, league in _CLUBS:
            if league != "PL":
                continue
            taken = {rounds_day for rounds_day, _ in by_league["PL"]}
            for _ in range(rng.randint(1, 3)):
                day = dt.date(season, 9, 15) + dt.timedelta(days=rng.randint(0, 180))
                day = _on_or_after(day, rng.choice((TUE, WED, THU)))
                if any(abs((day - t).days) <= 2 for t in taken):
                    continue
                taken.add(day)
                cup_grade: FootballGrade
                if rng.random() < 0.5:
                    opp = rng.choice(_EUROPE)
                    comp = "UEFA club competition"
                    cup_grade = "C" if opp in _RISKY_EUROPE else "B"
                else:
                    opp = rng.choice(_OPPONENTS["CH"] + _OPPONENTS["L1"])
                    comp = rng.choice(("FA Cup", "EFL Cup"))
                    cup_grade = "A" if rng.random() < 0.5 else "B"
                _add_match(ev, rng, name, opp, comp, ground, borough, cup_grade, _at(day, 20),
                           day - dt.timedelta(days=rng.randint(14, 35)))
    return hard


def _add_match(ev: _Events, rng: random.Random, home: str, away: str, comp: str, ground: str,
               borough: str, grade: FootballGrade, kickoff: dt.datetime, released: dt.date) -> None:
    parts = _football_parts(grade, comp == "Premier League" or comp.startswith("UEFA"), rng)
    big = grade in ("C", "C-IR")
    before = dt.timedelta(hours=3 if big else 2)
    after = dt.timedelta(hours=3 if big else 2, minutes=0 if big else 30)
    priority = _PRIORITY_BY_GRADE[grade]
    if grade == "C-IR" and rng.random() < 0.4:
        priority = "critical"
    elif grade == "A" and rng.random() < 0.4:
        priority = "low"
    # Matches moved for television are confirmed about six weeks ahead.
    notified = released
    if kickoff.weekday() in (FRI, SUN, MON) and comp == "Premier League":
        notified = max(released, kickoff.date() - dt.timedelta(days=42))
    ev.add(f"{home} v {away} ({comp})", "football", borough, kickoff - before, kickoff + after,
           parts, priority, notified, grade=grade, venue=ground)


# ---- protests


def _demo_days(year: int) -> tuple[list[dt.date], list[float]]:
    month_factor = (0.85, 0.9, 1.0, 1.05, 1.1, 1.15, 1.1, 0.85, 1.05, 1.1, 1.0, 0.7)
    dow_factor = (1.0, 1.0, 1.05, 1.05, 1.1, 2.6, 1.6)
    days, cum, total = [], [], 0.0
    day = dt.date(year, 1, 1)
    while day.year == year:
        w = month_factor[day.month - 1] * dow_factor[day.weekday()]
        if day.month == 12 and 24 <= day.day <= 26:
            w *= 0.2
        total += w
        days.append(day)
        cum.append(total)
        day += _DAY
    return days, cum


def _protests(ev: _Events, year: int, rng: random.Random, hard: list[dt.date], codes: dict[str, str],
              populations: dict[str, int]) -> None:
    names = list(_DEMO_SHARE)
    rest = [b for b in codes if b not in _DEMO_SHARE]
    rest_share = 1.0 - sum(_DEMO_SHARE.values())
    pop = sum(populations[b] for b in rest)
    weights = [_DEMO_SHARE[b] for b in names] + [rest_share * populations[b] / pop for b in rest]
    boroughs = names + rest
    bcum = [sum(weights[: i + 1]) for i in range(len(weights))]
    days, dcum = _demo_days(year)

    def place(borough: str) -> str:
        return rng.choice(_PLACES.get(borough, (f"{borough} Town Hall", f"{borough} town centre")))

    def notice(day: dt.date, march: bool) -> dt.date:
        # Marches: at least 6 clear days, usually weeks; static protests often at a few days' notice.
        if march:
            days_ahead = 7 + min(110, int(rng.expovariate(1 / 21)))
        elif rng.random() < 0.4:
            days_ahead = rng.randint(0, 5)
        else:
            days_ahead = 6 + min(80, int(rng.expovariate(1 / 18)))
        return day - dt.timedelta(days=days_ahead)

    # Everyday protests: mostly 10-200 officers, log-normal, bigger at weekends and in Westminster.
    for _ in range(3240):
        day = rng.choices(days, cum_weights=dcum)[0]
        borough = rng.choices(boroughs, cum_weights=bcum)[0]
        median = 15.0 * (1.4 if day.weekday() >= SAT else 1.0) * (1.3 if borough == "Westminster" else 1.0)
        n = max(4, min(280, round(rng.lognormvariate(math.log(median), 0.9))))
        march = rng.random() < (0.35 if n >= 100 else 0.1)
        if day.weekday() >= SAT:
            start = _at(day, rng.choice((11, 11, 12, 12, 12, 13, 13, 14, 15)), rng.choice((0, 30)))
        else:
            start = _at(day, rng.choice((8, 11, 12, 12, 13, 14, 16, 17, 17, 18, 18)), rng.choice((0, 30)))
        hours = rng.uniform(4, 6) if march else rng.uniform(2, 3) if n < 30 else rng.uniform(3, 5)
        end = start + dt.timedelta(minutes=round(hours * 4) * 15)
        priority: Priority = "normal"
        r = rng.random()
        if n >= 150 and r < 0.35:
            priority = "high"
        elif n < 15 and r < 0.4:
            priority = "low"
        cause = rng.choice(_CAUSES)
        name = f"March: {cause}" if march else f"Protest: {cause}"
        where = place(borough)
        ev.add(f"{name} ({where})", "march" if march else "demonstration", borough, start, end,
               _protest_parts(n, rng, march), priority, notice(day, march), venue=where)

    # Large marches of 300-1,200 officers, mostly Saturdays in Westminster.
    for _ in range(40):
        day = rng.choices(days, cum_weights=dcum)[0]
        day = _on_or_after(day, SAT) if rng.random() < 0.8 else day
        borough = "Westminster" if rng.random() < 0.8 else rng.choice(("Camden", "Kensington and Chelsea",
                                                                         "Lambeth", "Tower Hamlets"))
        n = rng.randint(300, 1200)
        cause = rng.choice(_CAUSES)
        ev.add(f"National march: {cause}", "march", borough, _at(day, 11), _at(day, 17),
               _protest_parts(n, rng, True), "high" if n >= 600 else "normal", notice(day, True),
               venue=place(borough))

    # The hard Saturdays: a 1,600-1,900 officer march on a day of many London matches.
    for day in hard:
        n = rng.randint(1600, 1900)
        cause = rng.choice(_CAUSES)
        ev.add(f"National march and rally: {cause}", "march", "Westminster", _at(day, 11), _at(day, 17),
               _protest_parts(n, rng, True), "critical" if rng.random() < 0.4 else "high",
               day - dt.timedelta(days=rng.randint(10, 35)), venue="Hyde Park Corner to Whitehall")

    # Short-notice large static protests (no notice is needed for a static protest).
    for _ in range(10):
        day = rng.choices(days, cum_weights=dcum)[0]
        borough = "Westminster" if rng.random() < 0.6 else rng.choice(
            ("Kensington and Chelsea", "Camden", "Wandsworth", "Lambeth"))
        n = rng.randint(500, 1500)
        cause = rng.choice(_CAUSES)
        start = _at(day, rng.choice((12, 13, 14)))
        ev.add(f"Emergency protest: {cause}", "demonstration", borough, start, _at(day, 18),
               _protest_parts(n, rng, False), "high", day - dt.timedelta(days=rng.randint(1, 5)),
               venue=place(borough))


# ---- fixed events


def _majors(ev: _Events, year: int, rng: random.Random) -> None:
    y = year
    known = _annual_notice(y)
    add = ev.add_sized

    # Notting Hill Carnival: one event over the bank holiday Sunday and Monday, ~7,000 a day.
    monday = _last_weekday(y, 8, MON)
    sunday = monday - _DAY
    carnival = _fill(7000, {
        "psu_l2": 64, "serial_l2": 160, "serial_l1": 40, "inspector": 60, "bronze": 40, "silver": 2,
        "gold": 1, "mounted": 50, "dog": 40, "medic": 30, "plo": 10, "polsa": 10,
    })
    ev.add("Notting Hill Carnival", "festival", "Kensington and Chelsea", _at(sunday, 10), _at(monday, 20),
           carnival, "critical", known, venue="Notting Hill")
    add("Carnival Panorama steel band competition", "festival", "Kensington and Chelsea",
        _at(sunday - _DAY, 17), 5, 250, "high", known, serial_l2=8, bronze=1)

    # New Year's Eve fireworks: one overnight tour on the 31st.
    nye = _fill(3000, {
        "psu_l2": 24, "serial_l2": 60, "serial_l1": 20, "mounted": 20, "dog": 20, "medic": 20, "bronze": 12,
        "silver": 2, "gold": 1, "inspector": 20, "polsa": 6, "plo": 4,
    })
    ev.add("New Year's Eve fireworks and celebrations", "festival", "Westminster",
           _at(dt.date(y, 12, 31), 18), _at(dt.date(y + 1, 1, 1), 3), nye, "critical", known,
           venue="Victoria Embankment")
    add("New Year's Day Parade", "festival", "Westminster", _at(dt.date(y, 1, 1), 10), 6, 500, "high",
        dt.date(y - 1, 9, 1), serial_l2=20, bronze=3, silver=1, polsa=2)

    # London Marathon (Sunday 21-27 April), policed borough by borough along the route.
    marathon = _weekday_from(y, 4, 21, SUN)
    for borough, n, extra in (
        ("Greenwich", 400, {"bronze": 2, "polsa": 2}),
        ("Southwark", 250, {"bronze": 1}),
        ("Tower Hamlets", 400, {"bronze": 2}),
        ("Westminster", 650, {"bronze": 3, "silver": 1, "gold": 1, "polsa": 3, "dog": 6, "serial_l2": 20}),
    ):
        add(f"London Marathon ({borough})", "sport", borough, _at(marathon, 7), 10, n, "critical", known,
            venue="Marathon route", **extra)

    # Trooping the Colour (Saturday 10-16 June) and its two rehearsals.
    trooping = _weekday_from(y, 6, 10, SAT)
    add("Trooping the Colour", "ceremonial", "Westminster", _at(trooping, 7), 8, 1600, "critical", known,
        venue="Horse Guards Parade and The Mall", serial_l2=40, serial_l1=8, mounted=30, dog=20, bronze=8,
        silver=1, gold=1, polsa=12, inspector=20)
    for weeks, label in ((2, "Major General's Review"), (1, "Colonel's Review")):
        add(label, "ceremonial", "Westminster", _at(trooping - weeks * 7 * _DAY, 8), 6, 300, "high", known,
            venue="Horse Guards Parade", serial_l2=10, bronze=2, polsa=2)
    for offset in (-10, -9):
        add("Beating Retreat", "ceremonial", "Westminster", _at(trooping + offset * _DAY, 18), 4, 150,
            "normal", known, venue="Horse Guards Parade", bronze=1)

    # Remembrance Sunday (second Sunday of November) and Armistice Day.
    remembrance = _weekday_from(y, 11, 8, SUN)
    add("Remembrance Sunday", "ceremonial", "Westminster", _at(remembrance, 7), 8, 1000, "critical", known,
        venue="The Cenotaph", serial_l2=30, serial_l1=4, bronze=5, silver=1, gold=1, polsa=8, dog=8)
    armistice = dt.date(y, 11, 11)
    if armistice.weekday() != SUN:
        add("Armistice Day service", "ceremonial", "Westminster", _at(armistice, 9), 4, 150, "high", known,
            venue="The Cenotaph", bronze=1, polsa=1)

    # Pride in London (first Saturday from 28 June).
    pride = _weekday_from(y, 6, 28, SAT)
    add("Pride in London", "festival", "Westminster", _at(pride, 11), 9, 1200, "critical", known,
        venue="Regent Street to Whitehall", serial_l2=40, serial_l1=4, bronze=6, silver=1, plo=2, dog=6,
        mounted=6, medic=4)

    # State Opening of Parliament (its date is set by the government; assumed mid-May here).
    state_opening = _weekday_from(y, 5, 12, WED)
    add("State Opening of Parliament", "ceremonial", "Westminster", _at(state_opening, 7), 9, 1000,
        "critical", dt.date(y, 3, 1), venue="Palace of Westminster", serial_l2=30, serial_l1=6, mounted=12,
        dog=10, bronze=5, silver=1, gold=1, polsa=10)
    for month in (3, 10):
        day = _weekday_from(y, month, rng.randint(8, 20), TUE)
        add("State visit: ceremonial welcome", "ceremonial", "Westminster", _at(day, 8), 10, 800, "high",
            day - dt.timedelta(days=rng.randint(42, 70)), venue="Horse Guards Parade and The Mall",
            serial_l2=25, serial_l1=4, mounted=10, dog=6, bronze=4, silver=1, gold=1, polsa=8)

    # Wimbledon: fourteen days from the Monday 25 June - 1 July.
    wimbledon = _weekday_from(y, 6, 25, MON)
    for i in range(14):
        day = wimbledon + i * _DAY
        finals = i >= 12
        add(f"The Championships, Wimbledon (day {i + 1})", "sport", "Merton", _at(day, 10), 10,
            130 if finals else 100, "high" if finals else "normal", known, venue="All England Club",
            serial_l2=4, bronze=1, dog=2, polsa=1)
    queens = wimbledon - 14 * _DAY
    # A multi-day event: one tour a day for the week.
    ev.add("Queen's Club Championships", "sport", "Hammersmith and Fulham", _at(queens, 11),
           _at(queens + 6 * _DAY, 19), _fill(30, {}), "normal", known, venue="Queen's Club")

    # Other annual parades and celebrations in the West End.
    for label, day, n in (
        ("Chinese New Year celebrations", _weekday_from(y, 2, 1, SUN), 400),
        ("St Patrick's Day parade", _weekday_from(y, 3, 14, SUN), 250),
        ("Vaisakhi on the Square", _weekday_from(y, 4, 17, SAT), 120),
        ("Eid in the Square", _weekday_from(y, 5, 15, SAT), 100),
        ("Diwali on the Square", _weekday_from(y, 10, 15, SUN), 150),
        ("Oxford Street Christmas lights switch-on", _weekday_from(y, 11, 1, THU), 200),
        ("Royal Parks Half Marathon", _weekday_from(y, 10, 8, SUN), 200),
        ("Boxing Day sales, West End", dt.date(y, 12, 26), 80),
    ):
        add(label, "festival", "Westminster", _at(day, 10), 8, n, "normal" if n < 200 else "high", known,
            venue="West End", bronze=1 + n // 200, serial_l2=n // 40)
    for label, day, borough, n in (
        ("Hackney Half Marathon", _weekday_from(y, 5, 14, SUN), "Hackney", 150),
        ("The Big Half", _weekday_from(y, 9, 1, SUN), "Tower Hamlets", 150),
        ("Hackney Carnival", _weekday_from(y, 9, 10, SUN), "Hackney", 250),
        ("London Mela", _weekday_from(y, 8, 20, SUN), "Ealing", 150),
        ("Brixton Splash", _weekday_from(y, 8, 1, SUN), "Lambeth", 150),
        ("Boat Race (start)", easter_sunday(y) - _DAY, "Hammersmith and Fulham", 200),
        ("Boat Race (finish)", easter_sunday(y) - _DAY, "Richmond upon Thames", 150),
    ):
        add(label, "sport" if "Half" in label or "Boat" in label else "festival", borough, _at(day, 9), 8, n,
            "normal", known, bronze=1 + n // 200, serial_l2=n // 50)
    lambeth_show = _weekday_from(y, 7, 15, SAT)
    ev.add("Lambeth Country Show", "festival", "Lambeth", _at(lambeth_show, 11), _at(lambeth_show + _DAY, 20),
           _fill(120, {"serial_l2": 4, "bronze": 1}), "normal", known, venue="Brockwell Park")
    for day in (dt.date(y, 2, 6), dt.date(y, 5, 6), dt.date(y, 11, 14)):
        add("Royal gun salute", "ceremonial", "Westminster", _at(day, 11), 3, 30, "normal", known,
            venue="Hyde Park")

    # Bonfire night: displays across London on the Saturday nearest 5 November.
    bonfire = _weekday_from(y, 11, 2, SAT)
    for borough, park in (
        ("Wandsworth", "Battersea Park"), ("Haringey", "Alexandra Palace"), ("Lewisham", "Blackheath"),
        ("Tower Hamlets", "Victoria Park"), ("Merton", "Wimbledon Park"),
        ("Richmond upon Thames", "Old Deer Park"), ("Hammersmith and Fulham", "Ravenscourt Park"),
        ("Croydon", "Lloyd Park"), ("Redbridge", "Valentines Park"), ("Barnet", "Barnet Copthall"),
        ("Ealing", "Gunnersbury Park"), ("Enfield", "Enfield Town Park"),
    ):
        add(f"Fireworks display ({park})", "festival", borough, _at(bonfire, 17), 5, rng.randint(40, 150),
            "normal", dt.date(y, 8, 1), venue=park, bronze=1)

    # Christmas: Winter Wonderland runs daily into the new year (one tour a day).
    ww = _weekday_from(y, 11, 15, FRI)
    ev.add("Winter Wonderland, Hyde Park", "festival", "Westminster", _at(ww, 12),
           _at(dt.date(y, 12, 31), 22), _fill(24, {"inspector": 1}), "normal", known, venue="Hyde Park")
    ev.add("Winter Wonderland, Hyde Park (final days)", "festival", "Westminster", _at(dt.date(y, 1, 1), 12),
           _at(dt.date(y, 1, 4), 22), _fill(24, {"inspector": 1}), "normal", _annual_notice(y - 1),
           venue="Hyde Park")
    for k in range(4):
        day = _weekday_from(y, 11, 28, SAT) + k * 7 * _DAY
        add("Christmas shopping operation, Oxford Street", "other", "Westminster", _at(day, 11), 9, 80,
            "normal", known, venue="Oxford Street", serial_l2=4)
    for borough in ("Croydon", "Kingston upon Thames", "Bromley", "Ealing", "Harrow", "Barnet",
                    "Islington", "Camden", "Lambeth", "Newham"):
        day = _weekday_from(y, 11, rng.randint(14, 28), rng.choice((THU, SAT)))
        add("Christmas lights switch-on", "festival", borough, _at(day, 16), 4, rng.randint(15, 40), "low",
            dt.date(y, 9, 1), venue=f"{borough} town centre")


def _venues(ev: _Events, year: int, rng: random.Random) -> None:
    """Stadium sport and concerts outside the football league programme."""
    y = year
    add = ev.add_sized
    known = _annual_notice(y)
    used: set[tuple[str, dt.date]] = set()  # one event a day per ground

    def wembley(label: str, day: dt.date, hour: int, n: int, priority: Priority, kind: EventKind = "sport",
                notified: dt.date = known) -> None:
        used.add(("Wembley Stadium", day))
        big = n >= 500
        add(label, kind, "Brent", _at(day, hour), 6, n, priority, notified, venue="Wembley Stadium",
            psu_l2=2 if big else 0, serial_l2=n // 25, mounted=6 if big else 2, dog=4, bronze=2 if big else 1,
            silver=1 if big else 0)

    fa_final = _weekday_from(y, 5, 15, SAT)
    wembley("FA Cup final", fa_final, 12, 900, "critical")
    for d in (fa_final - 21 * _DAY, fa_final - 20 * _DAY):
        wembley("FA Cup semi-final", d, 12, 700, "high", notified=d - 28 * _DAY)
    wembley("EFL Cup final", _weekday_from(y, 3, 15, SUN), 13, 800, "high")
    spring = _last_weekday(y, 5, MON)
    for label, day, n in (("Championship play-off final", spring - 2 * _DAY, 600),
                          ("League One play-off final", spring - _DAY, 400),
                          ("League Two play-off final", spring, 300)):
        wembley(label, day, 12, n, "high", notified=day - 14 * _DAY)
    wembley("FA Community Shield", _weekday_from(y, 8, 7, SUN), 13, 600, "high")
    wembley("Challenge Cup final (rugby league)", _weekday_from(y, 6, 5, SAT), 12, 300, "normal")
    for day in (_weekday_from(y, 3, 20, FRI), _weekday_from(y, 6, 5, FRI), _weekday_from(y, 9, 5, SAT),
                _weekday_from(y, 10, 8, THU), _weekday_from(y, 11, 12, FRI)):
        wembley("England men's international", day, 17, 500, "high")
    for day in (_weekday_from(y, 4, 1, FRI), _weekday_from(y, 10, 20, TUE)):
        wembley("England women's international", day, 17, 200, "normal")
    wembley("NFL International Series", _weekday_from(y, 10, 1, SUN), 12, 400, "high")
    for day in (_weekday_from(y, 10, 8, SUN), _weekday_from(y, 10, 22, SUN)):
        add("NFL International Series", "sport", "Haringey", _at(day, 11), 7, 350, "high", known,
            venue="Tottenham Hotspur Stadium", serial_l2=10, mounted=4, dog=4, bronze=2, silver=1)

    # Twickenham: Six Nations and autumn internationals, Premiership final, Varsity Match.
    rugby = [_weekday_from(y, 2, 5, SAT), _weekday_from(y, 2, 26, SAT), _weekday_from(y, 3, 12, SAT)]
    rugby += [_weekday_from(y, 11, 1, SAT) + k * 7 * _DAY for k in range(4)]
    for day in rugby:
        add("Rugby union international", "sport", "Richmond upon Thames", _at(day, 12), 7,
            rng.randint(250, 350), "high", known, venue="Twickenham Stadium", serial_l2=10, dog=4, mounted=2,
            bronze=2)
    add("Premiership Rugby final", "sport", "Richmond upon Thames", _at(_weekday_from(y, 6, 20, SAT), 13), 6,
        250, "normal", known, venue="Twickenham Stadium", serial_l2=8, dog=2, bronze=1)
    add("Varsity Match", "sport", "Richmond upon Thames", _at(_weekday_from(y, 12, 8, THU), 12), 5, 100,
        "low", known, venue="Twickenham Stadium", bronze=1)

    # Test cricket: five-day events, one tour a day.
    for label, borough, ground, first in (
        ("Test match", "Westminster", "Lord's", _weekday_from(y, 6, 17, THU)),
        ("Test match", "Lambeth", "The Oval", _weekday_from(y, 9, 2, THU)),
    ):
        ev.add(f"{label}, {ground}", "sport", borough, _at(first, 10), _at(first + 4 * _DAY, 18),
               _fill(50, {"inspector": 1}), "normal", known, venue=ground)
    for label, borough, ground, day in (
        ("One-day international", "Westminster", "Lord's", _weekday_from(y, 7, 15, SUN)),
        ("T20 international", "Lambeth", "The Oval", _weekday_from(y, 7, 22, TUE)),
        ("The Hundred final", "Westminster", "Lord's", _weekday_from(y, 8, 24, SUN)),
    ):
        add(f"{label}, {ground}", "sport", borough, _at(day, 13), 8, 60, "normal", known, venue=ground)

    # Stadium and arena concerts.
    # (ground, borough, nights, officers, months): stadiums only outside the football season.
    concerts: list[tuple[str, str, int, tuple[int, int], tuple[int, int]]] = [
        ("Wembley Stadium", "Brent", 14, (250, 400), (6, 8)),
        ("Tottenham Hotspur Stadium", "Haringey", 6, (200, 350), (6, 7)),
        ("The O2", "Greenwich", 16, (150, 200), (1, 12)),
        ("Alexandra Palace", "Haringey", 4, (60, 100), (9, 12)),
        ("Brixton Academy", "Lambeth", 6, (50, 90), (1, 12)),
    ]
    for ground, borough, count, (lo, hi), (m1, m2) in concerts:
        made = 0
        while made < count:
            month = rng.randint(m1, m2)
            day = dt.date(y, month, rng.randint(1, 28))
            stadium = ground in ("Wembley Stadium", "Tottenham Hotspur Stadium")
            if stadium and day.weekday() not in (FRI, SAT, SUN):
                continue
            if (ground, day) in used:
                continue
            used.add((ground, day))
            n = rng.randint(lo, hi)
            add(f"Concert, {ground}", "concert", borough, _at(day, 16, 30), 7, n, "normal",
                day - dt.timedelta(days=rng.randint(90, 240)), venue=ground, serial_l2=n // 30,
                bronze=1 if n >= 100 else 0, dog=2 if n >= 150 else 0)
            made += 1
    bst = _weekday_from(y, 6, 25, FRI)
    for day in (bst, bst + _DAY, bst + 2 * _DAY, bst + 7 * _DAY, bst + 8 * _DAY, bst + 9 * _DAY,
                bst + 14 * _DAY, bst + 15 * _DAY):
        add("British Summer Time concert, Hyde Park", "concert", "Westminster", _at(day, 14), 8, 250,
            "normal", known, venue="Hyde Park", serial_l2=8, bronze=1, dog=2)
    wireless = _weekday_from(y, 7, 8, FRI)
    ev.add("Wireless Festival", "concert", "Haringey", _at(wireless, 12), _at(wireless + 2 * _DAY, 22),
           _fill(400, {"serial_l2": 16, "psu_l2": 2, "dog": 6, "bronze": 2, "silver": 1}), "high", known,
           venue="Finsbury Park")
    ape = _weekday_from(y, 8, 18, FRI)
    for start in (ape, ape + 7 * _DAY):
        ev.add("All Points East", "concert", "Tower Hamlets", _at(start, 12), _at(start + 2 * _DAY, 22),
               _fill(200, {"serial_l2": 8, "dog": 2, "bronze": 1}), "normal", known, venue="Victoria Park")


def _community(ev: _Events, year: int, rng: random.Random, codes: dict[str, str],
               populations: dict[str, int]) -> None:
    """Local events: fairs, religious festivals, vigils, VIP visits, amateur sport."""
    boroughs = sorted(codes)
    inner_boost = {"Westminster": 3.0, "Camden": 1.5, "Kensington and Chelsea": 1.5, "Lambeth": 1.3,
                   "Southwark": 1.3, "Tower Hamlets": 1.3, "Hackney": 1.2, "Islington": 1.2}
    weights = [populations[b] * inner_boost.get(b, 1.0) for b in boroughs]
    cum = [sum(weights[: i + 1]) for i in range(len(weights))]
    kinds: tuple[tuple[str, EventKind, float], ...] = (
        ("Summer fair", "festival", 0.25), ("Community festival", "festival", 0.15),
        ("Religious festival procession", "festival", 0.1), ("Vigil", "other", 0.12),
        ("VIP visit", "other", 0.15), ("Charity run", "sport", 0.08), ("Boxing night", "sport", 0.05),
        ("Street party", "festival", 0.1),
    )
    kcum = [sum(k[2] for k in kinds[: i + 1]) for i in range(len(kinds))]
    for _ in range(420):
        label, kind, _w = rng.choices(kinds, cum_weights=kcum)[0]
        borough = rng.choices(boroughs, cum_weights=cum)[0]
        if kind == "festival" and label != "Religious festival procession":
            day = dt.date(year, 5, 1) + dt.timedelta(days=rng.randint(0, 136))
            day = _on_or_after(day, rng.choice((SAT, SAT, SUN)))
        else:
            day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
        if label == "VIP visit":
            borough = "Westminster" if rng.random() < 0.5 else borough
            n = rng.randint(20, 60)
            notified = day - dt.timedelta(days=rng.randint(2, 14))
            start, hours = _at(day, rng.randint(8, 15)), rng.choice((3, 4, 5))
            priority: Priority = "high"
        elif label == "Vigil":
            n = rng.randint(8, 40)
            notified = day - dt.timedelta(days=rng.randint(0, 4))
            start, hours, priority = _at(day, 18), 3, "normal"
        else:
            n = rng.randint(10, 80)
            notified = day - dt.timedelta(days=rng.randint(21, 120))
            start, hours = _at(day, rng.choice((10, 11, 12, 18))), rng.choice((4, 5, 6))
            priority = "low" if n < 25 else "normal"
        parts = {"inspector": 1 if n >= 40 else 0, "serial_l2": 1 if n >= 50 else 0}
        ev.add(f"{label} ({borough})", kind, borough, start, start + dt.timedelta(hours=hours),
               _fill(n, parts), priority, notified)


# --------------------------------------------------------------------------- the problem


def demo_policy(year: int) -> Policy:
    """Default policy with England's bank holidays and the roster published on 1 December before."""
    holidays = england_bank_holidays(year) + tuple(
        d for d in england_bank_holidays(year + 1) if d.month == 1 and d.day <= 3  # New Year's Eve spill
    )
    # Central commands with their own core work keep most of it: specialist investigations and
    # protection (SPEC) and roads policing (RTPC) lend officers to events, but not all of them.
    central_floors = {"SPEC": Floors(central=0.8), "RTPC": Floors(central=0.5)}
    return Policy(
        public_holidays=holidays, roster_published=dt.date(year - 1, 12, 1), borough_floors=central_floors
    )


def demo_problem(year: int = 2027, seed: int = 7) -> PlanningProblem:
    """A deterministic London policing year: ~32,000 officers and 4,000+ events."""
    org = london()
    rng = random.Random(seed)
    codes = {b.name: b.code for b in org.boroughs}
    populations = {b.name: b.population for b in org.boroughs}
    officers = _officers(random.Random(rng.getrandbits(64)), year)
    ev = _Events(year, codes)
    hard = _football(ev, year, random.Random(rng.getrandbits(64)), random.Random(rng.getrandbits(64)))
    _protests(ev, year, random.Random(rng.getrandbits(64)), hard, codes, populations)
    _majors(ev, year, random.Random(rng.getrandbits(64)))
    _venues(ev, year, random.Random(rng.getrandbits(64)))
    _community(ev, year, random.Random(rng.getrandbits(64)), codes, populations)
    return PlanningProblem(
        organisation=org,
        officers=officers,
        events=ev.finish(),
        policy=demo_policy(year),
        start=dt.date(year, 1, 1),
        end=dt.date(year, 12, 31),
    )
