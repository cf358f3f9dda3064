"""The calendars, task lists and address books a user's clients see under /dav/<username>/.

Each collection is a query over Rapport's tables, never a copy: what a client lists is what the user
may see in Rapport at that moment. A user's own calendar, task list and address book can be written;
the team and company calendars are read only and hold only what the user may see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from rapport.core.models import User

CALENDAR, TASKS, CONTACTS, TEAM, COMPANY = "calendar", "tasks", "contacts", "team", "company"
# The shared calendars hold what happens from this long ago up to this far ahead (and every recurring
# series that reaches into that window): a company has millions of activities, a phone wants weeks.
SHARED_PAST = dt.timedelta(days=90)
SHARED_FUTURE = dt.timedelta(days=365)


@dataclass(frozen=True)
class CollectionInfo:
    name: str  # the last part of its address: /dav/<username>/<name>/
    title: str  # what clients show (the displayname)
    description: str
    tag: str  # "VCALENDAR" or "VADDRESSBOOK"
    component: str  # "VEVENT", "VTODO" or "" (address book)
    writable: bool


def collections_for(user: User) -> list[CollectionInfo]:
    """The collections of one user, in the order a settings page lists them."""
    found = [
        CollectionInfo(CALENDAR, _("Rapport: my calendar"),
                       _("The events assigned to you. Events you add in your client appear in Rapport."),
                       "VCALENDAR", "VEVENT", True),
        CollectionInfo(TASKS, _("Rapport: my tasks"),
                       _("The tasks assigned to you, follow-ups included. Tick them off in your client."),
                       "VCALENDAR", "VTODO", True),
        CollectionInfo(CONTACTS, _("Rapport: my contacts"),
                       _("The contacts you own. Contacts you add in your client appear in Rapport."),
                       "VADDRESSBOOK", "", True),
    ]
    if user.team_id is not None:
        team_name = user.team.name if user.team else ""
        found.append(CollectionInfo(TEAM, _("Rapport: team %(team)s") % {"team": team_name},
                                    _("The events of your team's members that you may see (read only)."),
                                    "VCALENDAR", "VEVENT", False))
    found.append(CollectionInfo(COMPANY, _("Rapport: company"),
                                _("The events of everyone in the company that you may see (read only)."),
                                "VCALENDAR", "VEVENT", False))
    return found


def collection_info(user: User, name: str) -> CollectionInfo | None:
    return next((info for info in collections_for(user) if info.name == name), None)
