"""iCalendar (RFC 5545) for activities: the subscription feed and the .ics import.

- `feed.py` writes one user's calendar as a VCALENDAR: each activity once, a
  recurring one as its series (RRULE, EXDATE, and a RECURRENCE-ID override per
  moved occurrence), never as expanded occurrences.
- `importer.py` reads an uploaded .ics file into activities through the
  activity services, all or nothing, updating by UID on a second import.
- `convert.py` is what both share: how Rapport's fields map to iCalendar
  properties and back, so that an imported item exports as it came in.

The transport (the feed's URL, the upload form) is in `activities/feed_views.py`;
the user documentation is docs/calendar.md.
"""
