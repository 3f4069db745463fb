"""A small London instance as the API receives it: officers CSV, events CSV/JSON/ICS."""

from __future__ import annotations

import datetime as dt
import json

WESTMINSTER, LAMBETH, CAMDEN = "E09000033", "E09000022", "E09000007"
DAY = dt.date(2027, 3, 1)  # a Monday


def officers_rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    n = 0

    def add(unit: str, rank: str, role: str, skills: str, pattern: str, offset: int) -> None:
        nonlocal n
        n += 1
        rows.append(
            {
                "service_number": f"T{n:05d}",
                "name": f"Officer {n}",
                "unit": unit,
                "rank": rank,
                "duty_role": role,
                "skills": skills,
                "shift_pattern": pattern,
                "pattern_offset": str(offset),
                "leave": "",
            }
        )

    for unit in (WESTMINSTER, LAMBETH):
        add(unit, "INSP", "neighbourhood", "PO_L2;BRONZE", "5x2", 0)
        add(unit, "INSP", "neighbourhood", "PO_L2;BRONZE", "5x2", 3)
        for i in range(3):
            add(unit, "PS", "neighbourhood", "PO_L2", "5x2", i)
        for i in range(16):
            add(unit, "PC", "neighbourhood", "PO_L2;DRIVER" if i % 5 == 0 else "PO_L2", "5x2", i % 7)
        for i in range(10):
            add(unit, "PC", "investigation", "DETECTIVE", "5x2", i % 7)
        for i in range(10):
            add(unit, "PC", "response", "", "response", i * 2)
    return rows


def officers_csv() -> bytes:
    rows = officers_rows()
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(r[h] for h in header) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def events_rows() -> list[dict[str, str]]:
    rows = []
    for d in range(3):
        day = DAY + dt.timedelta(days=d)
        rows.append(
            {
                "external_id": f"EV-{d}-A",
                "name": f"Rally {d}",
                "kind": "demonstration",
                "borough": WESTMINSTER,
                "start": f"{day}T12:00",
                "end": f"{day}T16:00",
                "priority": "high",
                "demand": "constable:3;bronze:1",
                "grade": "",
                "venue": "Parliament Square",
                "notified": "2027-01-10",
                "status": "planned",
            }
        )
        rows.append(
            {
                "external_id": f"EV-{d}-B",
                "name": f"Match {d}",
                "kind": "football",
                "borough": LAMBETH,
                "start": f"{day}T18:00",
                "end": f"{day}T20:00",
                "priority": "normal",
                "demand": "serial_l2:1",
                "grade": "B",
                "venue": "The Oval",
                "notified": "",
                "status": "planned",
            }
        )
    return rows


def events_csv(rows: list[dict[str, str]] | None = None) -> bytes:
    rows = rows or events_rows()
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(r[h] for h in header) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def events_json() -> bytes:
    out = []
    for r in events_rows():
        item: dict[str, object] = {k: v for k, v in r.items() if v != "" and k != "demand"}
        item["demand"] = [
            {"role": p.split(":")[0], "count": int(p.split(":")[1])} for p in r["demand"].split(";")
        ]
        out.append(item)
    return json.dumps(out, indent=1).encode()


def events_ics() -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//planner//EN"]
    for d in range(2):
        day = DAY + dt.timedelta(days=7 + d)
        stamp = day.strftime("%Y%m%d")
        lines += [
            "BEGIN:VEVENT",
            f"UID:ics-{d}@tests",
            f"DTSTAMP:{stamp}T000000Z",
            f"SUMMARY:March {d}",
            f"DTSTART;TZID=Europe/London:{stamp}T110000",
            f"DTEND;TZID=Europe/London:{stamp}T150000",
            "CATEGORIES:march",
            "LOCATION:Whitehall",
            f"X-MET-BOROUGH:{WESTMINSTER}",
            "X-MET-DEMAND:constable:2",
            "PRIORITY:3",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()
