"""An independent CalDAV client (python3-caldav) against easd: discover
the calendar, create events, query by time range, update, delete, and ask
for free/busy. Prints one line per step; exits non-zero on the first
failure. Usage: caldav_client.py URL USER PASSWORD"""
import sys
from datetime import datetime, timezone

import caldav

url, user, password = sys.argv[1:4]
client = caldav.DAVClient(url=url, username=user, password=password)
cals = client.principal().calendars()
assert cals, "no calendar found by discovery"
cal = cals[0]
print("calendar", cal.url)


def ev(uid, summary, start, end, extra=""):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//py//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
        f"SUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def utc(*a):
    return datetime(*a, tzinfo=timezone.utc)


cal.save_event(ev("py-one", "Python one", "20260510T090000Z", "20260510T100000Z"))
cal.save_event(ev("py-weekly", "Python weekly", "20260401T120000Z", "20260401T130000Z",
                  "RRULE:FREQ=WEEKLY;COUNT=4\r\n"))
cal.save_event(ev("py-june", "Python June", "20260610T090000Z", "20260610T100000Z"))
print("created")


def uids(start, end):
    found = cal.search(start=start, end=end, event=True, expand=False)
    return sorted(str(e.icalendar_component["uid"]) for e in found)


got = uids(utc(2026, 4, 20), utc(2026, 5, 31))
assert got == ["py-one", "py-weekly"], got
got = uids(utc(2026, 5, 1), utc(2026, 5, 31))
assert got == ["py-one"], got
print("query", got)

e = cal.event_by_uid("py-one")
e.icalendar_component["summary"] = "Python one, moved"
e.save()
again = cal.event_by_uid("py-one")
assert "moved" in str(again.icalendar_component["summary"]), again.data
print("updated")

cal.event_by_uid("py-june").delete()
got = uids(utc(2026, 6, 1), utc(2026, 7, 1))
assert got == [], got
print("deleted")

fb = cal.freebusy_request(utc(2026, 5, 10), utc(2026, 5, 11))
text = fb.data if hasattr(fb, "data") else str(fb)
assert "FREEBUSY;FBTYPE=BUSY:20260510T090000Z/20260510T100000Z" in text.replace("\r\n ", ""), text
print("freebusy ok")
