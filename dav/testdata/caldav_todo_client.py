"""An independent CalDAV client (python3-caldav) against easd's task
lists: discover the task list (the collection for VTODO), create todos,
list the open ones, complete one. Prints one line per step; exits
non-zero on the first failure. Usage: caldav_todo_client.py URL USER PASSWORD"""
import sys

import caldav

url, user, password = sys.argv[1:4]
client = caldav.DAVClient(url=url, username=user, password=password)
lists = [c for c in client.principal().calendars()
         if "VTODO" in c.get_supported_components()]
assert lists, "no task list found by discovery"
tl = lists[0]
print("task list", tl.url)


def todo(uid, summary):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//py//EN\r\nBEGIN:VTODO\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\n"
        "DUE:20260515T170000Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )


tl.save_todo(todo("py-todo", "Python todo"))
print("created")

open_uids = sorted(str(t.icalendar_component["uid"]) for t in tl.todos())
assert open_uids == ["py-todo"], open_uids
print("listed", open_uids)

t = tl.todo_by_uid("py-todo")
t.complete()
assert tl.todos() == [], "a completed todo is still listed as open"
done = tl.todos(include_completed=True)
assert len(done) == 1 and str(done[0].icalendar_component["status"]) == "COMPLETED", done
print("completed")
