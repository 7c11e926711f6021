"""Expands every event of an .ics file with python-recurring-ical-events,
an implementation independent of easd's, and prints one line per
occurrence: "UID|start", start in UTC ("...Z"), as a DATE, or floating.

    python3 oracle.py FILE.ics FROM TO     (FROM, TO: YYYYMMDD, UTC)
"""
import datetime
import sys

import icalendar
import recurring_ical_events


def main():
    path, lo, hi = sys.argv[1], sys.argv[2], sys.argv[3]
    lo = datetime.datetime.strptime(lo, "%Y%m%d")
    hi = datetime.datetime.strptime(hi, "%Y%m%d")
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    # A window a year wider on each side: the library's window is in each
    # event's local time; the caller's is in UTC.
    pad = datetime.timedelta(days=400)
    lines = set()
    for ev in recurring_ical_events.of(cal).between(lo - pad, hi + pad):
        uid = str(ev.get("UID", ""))
        start = ev["DTSTART"].dt
        if isinstance(start, datetime.datetime):
            if start.tzinfo is not None:
                u = start.astimezone(datetime.timezone.utc).replace(tzinfo=None)
                text = u.strftime("%Y%m%dT%H%M%SZ")
            else:
                u = start
                text = start.strftime("%Y%m%dT%H%M%S")
        else:
            u = datetime.datetime(start.year, start.month, start.day)
            text = start.strftime("%Y%m%d")
        if lo <= u < hi:
            lines.add(uid + "|" + text)
    for line in sorted(lines):
        print(line)


main()
