"""The registry of the permission matrix: one entry per URL route of Rapport.

A page route is keyed by its URL pattern name ("account_edit"); an API route by
"METHOD /api/v1/path" exactly as the OpenAPI schema spells the path
("PATCH /api/v1/accounts/{account_id}"). The Django admin is covered as a
block (ADMIN_NAMESPACE). tests/test_permission_matrix.py walks the URL
resolver and fails, naming the route, for any route without an entry here, and
for any entry whose route no longer exists.

Each entry says:
- `subject`: what the URL names, built by tests/permissions/world.py (a record
  owned by `owner`, with the case's visibility; a token, a user, a team, a role);
  `arg` is the subject's attribute that goes into the URL (public_id by default);
- `calls`: per HTTP method, the status each persona gets, from a table of
  rules.py; a table with three statuses per persona is for a record owned by
  `owner` that is private / team / everyone. A call that `writes` is also
  checked to leave the database unchanged when denied; `version` says the
  request carries the record's version (for the version games);
- `anonymous`: only for the reviewed allow-list PUBLIC; every other page must
  send an anonymous visitor to /login/?next=..., every other API route 401;
- `lists`: the record type a list shows, `list_ids` how to read the shown ids
  from a response (and `list_cap` for a picker that shows only the first N),
  for the test that lists carry exactly what the user may see.

Adding a feature: one `page(...)` per URL name and one `api(...)` per operation,
with the table that states who may do it (or a new table in rules.py), and a
subject builder in world.py for a new kind of record. From these entries the
module derives, with nothing more to write: the anonymous and deactivated-user
checks, every persona x visibility case, the CSRF check and the extra-field
checks of every call that `writes`, the 404 for deleted records on routes about
a record, and the list checks of every route with `lists`. Where the matrix
finds a real bug, mark the single case in KNOWN_BUGS (strict xfail) and report it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.urls import reverse

from tests.factories import PASSWORD
from tests.permissions.rules import (
    ADMINS_ONLY,
    CHANGE_OWNERS_RECORD,
    CREATE,
    EVERYONE,
    NOTE_AUTHOR,
    NOTE_ON_OWNERS_RECORD,
    NOTE_READERS,
    OWNER_ONLY,
    SEE_OWNERS_RECORD,
    everyone,
    table,
)
from tests.permissions.world import World

Expect = Mapping[str, int | tuple[int, ...]]
Body = Callable[[World, str], dict[str, Any]]  # (world, acting persona) -> form data or JSON body

ADMIN_NAMESPACE = "admin"
STATIC_URL = "/static/rapport/rapport.css"  # served by whitenoise before the URL resolver: public like all static

# The reviewed allow-list: routes an anonymous visitor may use, and why.
PUBLIC: dict[str, str] = {
    "login": "the sign-in page itself",
    "logout": "signing out while signed out only leads back to the sign-in page",
    "admin_login": "the Django admin's sign-in, served by Rapport's sign-in page (same throttle)",
    "GET /api/v1/openapi.json": "the API schema, published per DESIGN.md",
    "GET /api/v1/docs": "the API documentation page",
    "GET /api/v1/": "django-ninja's root view: 404 for everyone, it only names the docs URL",
    "calendar_feed": "the calendar feed: calendar apps cannot sign in, the secret in its address is the "
                     "credential; a wrong or revoked address is a bare 404 for everyone",
    "dav": "CalDAV/CardDAV for calendar and contact clients: they sign in on every request with HTTP Basic and "
           "an app password; without one, signed in to the pages or not, the answer is 401 and a challenge",
    "well_known_caldav": "RFC 6764 discovery: a permanent redirect to /dav/, which asks for sign-in itself",
    "well_known_carddav": "RFC 6764 discovery: a permanent redirect to /dav/, which asks for sign-in itself",
    "campaign_unsubscribe": "the unsubscribe link of a campaign message (RFC 8058 one-click too): recipients have "
                            "no account, the random token in the address is the credential; the page says "
                            "nothing about the person, an unknown token is a 404 page",
}


@dataclass(frozen=True)
class Call:
    method: str
    expect: Expect
    body: Body | None = None
    writes: bool = False
    version: bool = False  # the request carries the subject's version (the form's field, DELETE's query)


@dataclass(frozen=True)
class Route:
    key: str
    calls: tuple[Call, ...]
    subject: str | None = None
    arg: str = "public_id"
    anonymous: Mapping[str, int] | None = None
    lists: str | None = None
    list_ids: Callable[[Any], set[str]] | None = field(default=None, compare=False)
    list_cap: int | None = None  # a picker that shows only the first N matches

    @property
    def is_api(self) -> bool:
        return " " in self.key

    @property
    def path(self) -> str:
        return self.key.split(" ", 1)[1]

    def url(self, world: World, *, value: str | None = None) -> str:
        """The URL for the world's subject (or for `value` in its place, such as an unknown id)."""
        if self.subject is not None and value is None:
            value = str(getattr(world.subject(self.subject), self.arg))
        if self.is_api:
            return re.sub(r"\{[^}]+\}", value, self.path) if value is not None else self.path
        return reverse(self.key, args=[value] if value is not None else [])


def page(key: str, *calls: Call, **options: Any) -> Route:
    return Route(key=key, calls=calls, **options)


def api(key: str, expect: Expect, **options: Any) -> Route:
    method = key.split(" ", 1)[0]
    call_options = {name: options.pop(name) for name in ("body", "writes", "version") if name in options}
    return Route(key=key, calls=(Call(method, expect, **call_options),), **options)


# --- How lists show their items ----------------------------------------------------------

PUBLIC_ID = r"[a-z2-7]{16}"


def linked_ids(prefix: str) -> Callable[[Any], set[str]]:
    pattern = re.compile(rf'href="{prefix}({PUBLIC_ID})/"')
    return lambda response: set(pattern.findall(response.content.decode()))


def option_ids(response: Any) -> set[str]:
    return set(re.findall(rf'<option value="({PUBLIC_ID})"', response.content.decode()))


def api_item_ids(response: Any) -> set[str]:
    body = response.json()
    assert body["next"] is None, "the list test expects one page"
    return {item["id"] for item in body["items"]}


# --- Request bodies ----------------------------------------------------------------------------


def _public_id(world: World, persona: str) -> str:
    return world.user(persona).public_id


def _addresses(record: Any | None) -> dict[str, Any]:
    """The address formset as the edit page posts it: existing addresses unchanged."""
    rows = list(record.addresses.all()) if record is not None else []
    data: dict[str, Any] = {"addresses-TOTAL_FORMS": str(len(rows)), "addresses-INITIAL_FORMS": str(len(rows)),
                            "addresses-MIN_NUM_FORMS": "0", "addresses-MAX_NUM_FORMS": "10"}
    for i, row in enumerate(rows):
        data.update({f"addresses-{i}-id": str(row.pk), f"addresses-{i}-kind": row.kind,
                     f"addresses-{i}-city": row.city, f"addresses-{i}-street": row.street})
    return data


def account_form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    data = {"name": "Renamed by the matrix" if record else "Matrix Inc", "website": "", "industry": "Matrix",
            "email": "", "phone": "", "secondary_phone": "", "stage": "", "parent": "",
            "owner": record.owner.public_id if record else _public_id(world, actor),
            "visibility": record.visibility if record else "everyone", "remarks": "tier=gold",
            **_addresses(record)}
    if record is not None:
        data["version"] = str(record.version)
    return data


def contact_form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    data = {"first_name": "Matrix", "last_name": "Renamed" if record else "Person", "title": "Changed",
            "account": "", "email": "", "secondary_email": "", "phone": "", "mobile": "",
            "owner": record.owner.public_id if record else _public_id(world, actor),
            "visibility": record.visibility if record else "everyone", "remarks": "tier=gold",
            **_addresses(record)}
    if record is not None:
        data["version"] = str(record.version)
    return data


def version_of(kind: str) -> Body:
    return lambda world, actor: {"version": world.subject(kind).version}


def user_form(world: World, actor: str, target: Any | None = None) -> dict[str, Any]:
    """A change that would hand out the administrator role and move someone to team B."""
    return {"username": target.username if target else "matrix-user", "first_name": "Matrix",
            "last_name": "User", "email": "matrix-user@example.com",
            "team": world.user("outsider").team.public_id, "time_zone": "UTC", "is_active": "on",
            "roles": ["admin"], "password": "", "password_confirm": ""}


def team_form(world: World, actor: str, target: Any | None = None) -> dict[str, Any]:
    """A change that would put the outsider in charge."""
    return {"name": "Renamed team" if target else "Team Matrix", "manager": _public_id(world, "outsider"),
            "members": [_public_id(world, "outsider")]}


def role_form(world: World, actor: str, target: Any | None = None) -> dict[str, Any]:
    """A change that would make every holder of the role an administrator."""
    return {"slug": target.slug if target else "matrix", "name": "Matrix role", "description": "",
            "is_admin": "on", "create_scope": "all", "read_scope": "all", "update_scope": "all",
            "delete_scope": "all"}


def activity_form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    """The activity form as the page posts it: a one-hour meeting (the record's own values when editing)."""
    data = {"activity_type": "event", "kind": "meeting", "subject": "Matrix meeting", "start_date": "2027-01-05",
            "start_time": "10:00", "end_date": "2027-01-05", "end_time": "11:00", "status": "open",
            "priority": "normal", "repeat": "", "interval": "1", "monthly_by": "date", "ends": "never",
            "owner": record.owner.public_id if record else _public_id(world, actor),
            "visibility": record.visibility if record else "everyone"}
    if record is not None:
        data.update(subject="Renamed by the matrix", repeat="WEEKLY", ends="count", count="10",
                    start_date="2026-12-07", start_time="09:00", end_date="2026-12-07", end_time="10:00",
                    version=str(record.version))
    return data


MATRIX_ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Matrix//EN\r\nBEGIN:VEVENT\r\n"
              b"UID:matrix-import@rapport.test\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Matrix import\r\n"
              b"DTSTART:20270105T100000Z\r\nDTEND:20270105T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def ics_upload(world: World, actor: str) -> dict[str, Any]:
    """An .ics file for the import form; it reads whole on every post (the CSRF test posts one body twice)."""
    return {"file": SimpleNamespace(name="matrix.ics", content_type="text/calendar", read=lambda: MATRIX_ICS)}


# --- The registry ------------------------------------------------------------------------------

ACCOUNT, CONTACT = "account", "contact"

ROUTES: list[Route] = [
    # Sign in and out, home
    page("home", Call("GET", everyone(302))),
    page("login",
         Call("GET", everyone(302)),  # signed in: on to the home page
         Call("POST", everyone(400), body=lambda w, a: {"username": a, "password": "wrong"}),
         anonymous={"GET": 200, "POST": 400}),
    page("admin_login",
         Call("GET", everyone(302)),
         Call("POST", everyone(400), body=lambda w, a: {"username": a, "password": "wrong"}),
         anonymous={"GET": 200, "POST": 400}),
    page("logout", Call("GET", everyone(405)), Call("POST", everyone(302)), anonymous={"GET": 405, "POST": 302}),

    # Settings for every signed-in user
    page("settings_index", Call("GET", table(EVERYONE, 200))),
    page("settings_profile", Call("GET", table(EVERYONE, 200)),
         Call("POST", table(EVERYONE, 302), writes=True,
              body=lambda w, a: {"first_name": "Matrix", "last_name": a, "email": f"{a}@matrix.test",
                                 "time_zone": "Europe/Oslo"})),
    page("settings_password", Call("GET", table(EVERYONE, 200)),
         Call("POST", table(EVERYONE, 302), writes=True,
              body=lambda w, a: {"old_password": PASSWORD, "new_password1": "Matrix-passphrase-2026!",
                                 "new_password2": "Matrix-passphrase-2026!"})),
    page("settings_tokens", Call("GET", table(EVERYONE, 200)),
         Call("POST", table(EVERYONE, 200), writes=True, body=lambda w, a: {"name": "Matrix token"})),
    page("settings_token_revoke", Call("GET", everyone(405)), Call("POST", table(OWNER_ONLY, 302), writes=True),
         subject="owner's token", arg="prefix"),

    # Settings for administrators only
    page("settings_users", Call("GET", table(ADMINS_ONLY, 200))),
    page("settings_user_create", Call("GET", table(ADMINS_ONLY, 200)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True, body=user_form)),
    page("settings_user_edit", Call("GET", table(ADMINS_ONLY, 200)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True, body=lambda w, a: user_form(w, a, w.subject("user"))),
         subject="user"),
    page("settings_teams", Call("GET", table(ADMINS_ONLY, 200))),
    page("settings_team_create", Call("GET", table(ADMINS_ONLY, 200)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True, body=team_form)),
    page("settings_team_edit", Call("GET", table(ADMINS_ONLY, 200)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True, body=lambda w, a: team_form(w, a, w.subject("team"))),
         subject="team"),
    page("settings_roles", Call("GET", table(ADMINS_ONLY, 200))),
    page("settings_role_create", Call("GET", table(ADMINS_ONLY, 200)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True, body=role_form)),
    page("settings_role_edit", Call("GET", table(ADMINS_ONLY, 200)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True, body=lambda w, a: role_form(w, a, w.subject("role"))),
         subject="role", arg="slug"),

    # Accounts
    page("account_list", Call("GET", table(EVERYONE, 200)), lists=ACCOUNT, list_ids=linked_ids("/accounts/")),
    page("account_lookup", Call("GET", table(EVERYONE, 200)), lists=ACCOUNT, list_ids=option_ids, list_cap=20),
    page("account_create", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=account_form)),
    page("account_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject="account"),
    page("account_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: account_form(w, a, w.subject("account"))),
         subject="account"),
    page("account_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of("account")),
         subject="account"),
    page("account_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True),
         subject="deleted account"),

    # Contacts
    page("contact_list", Call("GET", table(EVERYONE, 200)), lists=CONTACT, list_ids=linked_ids("/contacts/")),
    page("contact_lookup", Call("GET", table(EVERYONE, 200)), lists=CONTACT, list_ids=option_ids, list_cap=20),
    page("contact_create", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=contact_form)),
    page("contact_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject="contact"),
    page("contact_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: contact_form(w, a, w.subject("contact"))),
         subject="contact"),
    page("contact_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of("contact")),
         subject="contact"),
    page("contact_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True),
         subject="deleted contact"),

    # My Home, the calendar, activities and notes (pages)
    page("my_home", Call("GET", table(EVERYONE, 200))),
    page("home_quick", Call("GET", everyone(405)),
         Call("POST", table(CREATE, 302), writes=True,
              body=lambda w, a: {"quick": "task", "what": "task", "subject": "Matrix task", "day": "2027-01-05"})),
    page("calendar", Call("GET", table(EVERYONE, 200))),
    page("activity_create", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=activity_form)),
    page("activity_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject="activity"),
    page("activity_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: activity_form(w, a, w.subject("activity"))),
         subject="activity"),
    page("activity_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of("activity")),
         subject="activity"),
    page("activity_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True), subject="deleted activity"),
    page("activity_status", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: {"status": "completed", "version": w.subject("activity").version}),
         subject="activity"),
    page("activity_move", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: {"date": "2027-01-11", "version": w.subject("activity").version}),
         subject="activity"),
    page("activity_skip", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: {"occurrence": "20261214T090000Z", "version": w.subject("activity").version}),
         subject="activity"),
    page("record_activities", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject="account", arg="ref"),
    page("record_notes", Call("GET", table(SEE_OWNERS_RECORD, 200)),
         Call("POST", table(NOTE_ON_OWNERS_RECORD, 302), writes=True, body=lambda w, a: {"body": "Matrix note"}),
         subject="account", arg="ref"),
    page("note_edit", Call("GET", table(NOTE_AUTHOR, 200)),
         Call("POST", table(NOTE_AUTHOR, 302), writes=True, version=True,
              body=lambda w, a: {"body": "Changed by the matrix", "version": w.subject("note").version}),
         subject="note"),
    page("note_delete", Call("GET", everyone(405)),
         Call("POST", table(NOTE_AUTHOR, 302), writes=True, version=True, body=version_of("note")),
         subject="note"),

    # Calendar feed and import
    # The feed's address with a real user's id and no secret: 404 for everyone, signed in or not, like any
    # wrong address (tests/activities/test_ical.py fetches real, revoked and replaced addresses).
    page("calendar_feed", Call("GET", everyone(404)), subject="user", anonymous={"GET": 404}),
    page("settings_calendar", Call("GET", table(EVERYONE, 200)),
         Call("POST", table(EVERYONE, 302), writes=True, body=lambda w, a: {"action": "regenerate"})),
    page("calendar_import", Call("GET", everyone(405)),
         Call("POST", table(CREATE, 302), writes=True, body=ics_upload)),

    # API: the schema and docs, ninja's root
    api("GET /api/v1/openapi.json", table(EVERYONE, 200), anonymous={"GET": 200}),
    api("GET /api/v1/docs", table(EVERYONE, 200), anonymous={"GET": 200}),
    api("GET /api/v1/", everyone(404), anonymous={"GET": 404}),

    # API: users, teams, me (colleagues are visible to every signed-in user)
    api("GET /api/v1/me", table(EVERYONE, 200)),
    api("GET /api/v1/users", table(EVERYONE, 200)),
    api("GET /api/v1/users/{user_id}", table(EVERYONE, 200), subject="user"),
    api("GET /api/v1/teams", table(EVERYONE, 200)),
    api("GET /api/v1/teams/{team_id}", table(EVERYONE, 200), subject="team"),

    # API: accounts
    api("GET /api/v1/accounts", table(EVERYONE, 200), lists=ACCOUNT, list_ids=api_item_ids),
    api("POST /api/v1/accounts", table(CREATE, 201), writes=True, body=lambda w, a: {"name": "Matrix Inc"}),
    api("GET /api/v1/accounts/{account_id}", table(SEE_OWNERS_RECORD, 200), subject="account"),
    api("PATCH /api/v1/accounts/{account_id}", table(CHANGE_OWNERS_RECORD, 200), subject="account",
        writes=True, version=True,
        body=lambda w, a: {"version": w.subject("account").version, "industry": "Matrix"}),
    api("DELETE /api/v1/accounts/{account_id}", table(CHANGE_OWNERS_RECORD, 204), subject="account",
        writes=True, version=True),
    api("POST /api/v1/accounts/{account_id}/restore", table(CHANGE_OWNERS_RECORD, 200),
        subject="deleted account", writes=True),

    # API: contacts
    api("GET /api/v1/contacts", table(EVERYONE, 200), lists=CONTACT, list_ids=api_item_ids),
    api("POST /api/v1/contacts", table(CREATE, 201), writes=True, body=lambda w, a: {"last_name": "Matrix"}),
    api("GET /api/v1/contacts/{contact_id}", table(SEE_OWNERS_RECORD, 200), subject="contact"),
    api("PATCH /api/v1/contacts/{contact_id}", table(CHANGE_OWNERS_RECORD, 200), subject="contact",
        writes=True, version=True,
        body=lambda w, a: {"version": w.subject("contact").version, "title": "Matrix"}),
    api("DELETE /api/v1/contacts/{contact_id}", table(CHANGE_OWNERS_RECORD, 204), subject="contact",
        writes=True, version=True),
    api("POST /api/v1/contacts/{contact_id}/restore", table(CHANGE_OWNERS_RECORD, 200),
        subject="deleted contact", writes=True),

    # API: activities and notes
    api("GET /api/v1/activities", table(EVERYONE, 200), lists="activity", list_ids=api_item_ids),
    api("POST /api/v1/activities", table(CREATE, 201), writes=True,
        body=lambda w, a: {"type": "task", "subject": "Matrix task", "due_on": "2027-01-05"}),
    api("GET /api/v1/activities/{activity_id}", table(SEE_OWNERS_RECORD, 200), subject="activity"),
    api("PATCH /api/v1/activities/{activity_id}", table(CHANGE_OWNERS_RECORD, 200), subject="activity",
        writes=True, version=True,
        body=lambda w, a: {"version": w.subject("activity").version, "location": "Matrix room"}),
    api("DELETE /api/v1/activities/{activity_id}", table(CHANGE_OWNERS_RECORD, 204), subject="activity",
        writes=True, version=True),
    api("POST /api/v1/activities/{activity_id}/restore", table(CHANGE_OWNERS_RECORD, 200),
        subject="deleted activity", writes=True),
    # Assignees may complete an activity too; the subject is assigned to its owner only.
    api("POST /api/v1/activities/{activity_id}/complete", table(CHANGE_OWNERS_RECORD, 200), subject="activity",
        writes=True, version=True, body=version_of("activity")),
    api("POST /api/v1/activities/{activity_id}/skip", table(CHANGE_OWNERS_RECORD, 200), subject="activity",
        writes=True, version=True,
        body=lambda w, a: {"original_start": "2026-12-14T09:00:00Z", "version": w.subject("activity").version}),
    api("POST /api/v1/activities/{activity_id}/move", table(CHANGE_OWNERS_RECORD, 200), subject="activity",
        writes=True, version=True,
        body=lambda w, a: {"original_start": "2026-12-14T09:00:00Z", "starts_at": "2026-12-15T10:00:00Z",
                           "version": w.subject("activity").version}),
    # Notes live on their record: without about=type:id the list answers 400 to everyone. What it carries
    # is checked by test_note_list_carries_exactly_the_notes_the_user_may_see.
    api("GET /api/v1/notes", table(EVERYONE, 200)),
    api("POST /api/v1/notes", table(CREATE, 201), writes=True,
        body=lambda w, a: {"about": f"account:{w.subject('account').public_id}", "body": "Matrix note"}),
    api("GET /api/v1/notes/{note_id}", table(NOTE_READERS, 200), subject="note"),
    api("PATCH /api/v1/notes/{note_id}", table(NOTE_AUTHOR, 200), subject="note", writes=True, version=True,
        body=lambda w, a: {"version": w.subject("note").version, "body": "Changed by the matrix"}),
    api("DELETE /api/v1/notes/{note_id}", table(NOTE_AUTHOR, 204), subject="note", writes=True, version=True),
]

# The sales area registers its routes in a module of its own (one per part: pages, API).
from tests.permissions.routes_sales import SALES_ROUTES  # noqa: E402

ROUTES += SALES_ROUTES
from tests.permissions.routes_mail import ROUTES as MAIL_ROUTES  # noqa: E402

ROUTES += MAIL_ROUTES
from tests.permissions.routes_support import SUPPORT_ROUTES  # noqa: E402

ROUTES += SUPPORT_ROUTES
from tests.permissions.routes_automation import AUTOMATION_ROUTES  # noqa: E402
from tests.permissions.routes_campaigns import ROUTES as CAMPAIGN_ROUTES  # noqa: E402
from tests.permissions.routes_emails import ROUTES as EMAIL_ROUTES  # noqa: E402
from tests.permissions.routes_templating import ROUTES as TEMPLATING_ROUTES  # noqa: E402

ROUTES += AUTOMATION_ROUTES
ROUTES += EMAIL_ROUTES + TEMPLATING_ROUTES + CAMPAIGN_ROUTES
from tests.permissions.routes_exports import ROUTES as EXPORT_ROUTES  # noqa: E402
from tests.permissions.routes_imports import ROUTES as IMPORT_ROUTES  # noqa: E402
from tests.permissions.routes_merge import ROUTES as MERGE_ROUTES  # noqa: E402
from tests.permissions.routes_reports import ROUTES as REPORT_ROUTES  # noqa: E402
from tests.permissions.routes_search import ROUTES as SEARCH_ROUTES  # noqa: E402

ROUTES += SEARCH_ROUTES + IMPORT_ROUTES + EXPORT_ROUTES + REPORT_ROUTES + MERGE_ROUTES
from tests.permissions.routes_documents import ROUTES as DOCUMENT_ROUTES  # noqa: E402
from tests.permissions.routes_expenses import ROUTES as EXPENSE_ROUTES  # noqa: E402
from tests.permissions.routes_projects import ROUTES as PROJECT_ROUTES  # noqa: E402

ROUTES += DOCUMENT_ROUTES + PROJECT_ROUTES + EXPENSE_ROUTES
from tests.permissions.routes_sync import ROUTES as SYNC_ROUTES  # noqa: E402

ROUTES += SYNC_ROUTES

REGISTRY: dict[str, Route] = {route.key: route for route in ROUTES}
assert len(REGISTRY) == len(ROUTES), "a route is registered twice"

# Real permission bugs the matrix found, one case each, until they are fixed:
# (route key, method, persona, visibility, None, or "linked") -> reason. Each runs as a strict xfail,
# so the suite fails once a bug is fixed, until its entries here are removed. For example:
#     ("contact_detail", "GET", "viewer", "linked"): "BUG: the history names a linked account the viewer "
#                                                   "may not see (found by the matrix, since fixed)",
KNOWN_BUGS: dict[tuple[str, str, str, str | None], str] = {}
