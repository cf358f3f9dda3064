"""The activity workloads (issue 3): create, one user's calendar month, My Current Tasks, a record's
activities panel, and the pages over them — each beside the hand-written SQL for the same rows.

The selector and service workloads call `rapport.activities` in process, as a page or the API
would, with the user's rights already resolved (a request resolves them once); the page workloads
go through Django's test client and include the session, the rights and the template.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse

from bench.workloads import Bench, _ok, _raw, _visibility_sql
from rapport.activities import selectors, services
from rapport.activities.models import Activity, ActivityKind, ActivityLink
from rapport.core.models import User
from rapport.directory.models import Account, Contact
from rapport.seed import BENCH_MONTH, ORDINARY_USER, bench_month_range

CALENDAR_TARGET = "40 / 120 ms"
TASKS_TARGET = "5 / 25 ms"
CREATE_TARGET = "15 / 60 ms"
PANEL_TARGET = "part of the record page (15 / 60 ms)"

ACTIVITY_COLUMNS = ("a.id, a.public_id, a.subject, a.activity_type, a.status, a.priority, a.starts_at, a.ends_at, "
                    "a.all_day, a.time_zone, a.rrule, a.owner_id, a.visibility, k.label")


def _db_time(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _route(name: str) -> str | None:
    """The path of a named route, or None while the page does not exist yet."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _activity_visibility_sql(user: User) -> tuple[str, list[Any]]:
    """Activities add one rule to visibility: whoever an activity is assigned to sees it (written as a
    correlated EXISTS, which lets PostgreSQL keep an index nested loop; see docs/performance.md)."""
    sql, params = _visibility_sql(user, alias="a")
    return (f"({sql[1:-1]} OR EXISTS (SELECT 1 FROM activities_activityassignee s2 "
            f"WHERE s2.activity_id = a.id AND s2.user_id = %s))"), [*params, user.id]


def _calendar_raw(user: User, start: dt.datetime, end: dt.datetime) -> Callable[[], Any]:
    """The calendar's rows by hand: the user's short activities by one index range, the long and
    recurring ones by another, each with the activity and its kind."""
    common = (f"SELECT {ACTIVITY_COLUMNS} FROM activities_activityassignee s "
              f"JOIN activities_activity a ON a.id = s.activity_id JOIN activities_activitykind k ON k.id = a.kind_id "
              f"WHERE s.user_id = %s AND a.deleted_at IS NULL AND ")
    sql = (f"{common} s.is_long = %s AND s.starts_at >= %s AND s.starts_at < %s UNION ALL "
           f"{common} s.is_long = %s AND s.starts_at < %s AND (s.last_ends_at IS NULL OR s.last_ends_at >= %s)")
    params = [user.id, False, _db_time(start - dt.timedelta(days=7)), _db_time(end),
              user.id, True, _db_time(end), _db_time(start)]
    return _raw(sql, params)


def _tasks_raw(user: User) -> Callable[[], Any]:
    """My Current Tasks by hand: an assigned activity is visible to its assignee, so no visibility test."""
    sql = (f"SELECT {ACTIVITY_COLUMNS}, u.first_name, u.last_name FROM activities_activityassignee s "
           f"JOIN activities_activity a ON a.id = s.activity_id JOIN activities_activitykind k ON k.id = a.kind_id "
           f"JOIN core_user u ON u.id = a.owner_id "
           f"WHERE s.user_id = %s AND s.open_task = %s AND a.deleted_at IS NULL "
           f"ORDER BY s.starts_at, s.activity_id LIMIT 50")
    return _raw(sql, [user.id, True])


def _about_raw(user: User, record: Any) -> Callable[[], Any]:
    """A record's activities panel by hand: linked, visible, open first, then newest, 50."""
    vis_sql, vis_params = _activity_visibility_sql(user)
    sql = (f"SELECT {ACTIVITY_COLUMNS}, u.first_name, u.last_name FROM activities_activity a "
           f"JOIN activities_activitykind k ON k.id = a.kind_id JOIN core_user u ON u.id = a.owner_id "
           f"WHERE a.deleted_at IS NULL AND {vis_sql} AND a.id IN (SELECT l.activity_id FROM activities_activitylink l "
           f"WHERE l.record_type = %s AND l.record_id = %s) "
           f"ORDER BY CASE WHEN a.status IN ('open', 'pending') THEN 0 ELSE 1 END, a.starts_at DESC, a.id DESC "
           f"LIMIT 50")
    return _raw(sql, [*vis_params, record.record_type, record.pk])


def _create_raw(user: User, targets: Iterator[tuple[Account, Contact]], kind_id: int,
                starts: Callable[[], dt.datetime]) -> Callable[[], Any]:
    """Creating an activity by hand: the activity, its assignment, its two links and its history entry,
    in one transaction."""
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Activity).pk
    columns = ("public_id, uid, owner_id, visibility, version, created_at, updated_at, created_by_id, activity_type, "
               "kind_id, subject, description, location, status, priority, starts_at, ends_at, all_day, time_zone, "
               "rrule, ical_source")

    def run() -> Any:
        start = starts()
        end = start + dt.timedelta(minutes=30)
        account, contact = next(targets)
        now = _db_time(dt.datetime.now(dt.UTC))
        public_id = secrets.token_hex(8)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO activities_activity ({columns}) VALUES "
                f"(%s, %s, %s, 'everyone', 1, %s, %s, %s, 'event', %s, %s, '', '', 'open', 'normal', %s, %s, %s, "
                f"'Europe/Berlin', '', '') RETURNING id",
                [public_id, public_id, user.id, now, now, user.id, kind_id, "Call about the renewal (raw)",
                 _db_time(start), _db_time(end), False])
            activity_id = cursor.fetchone()[0]
            cursor.execute("INSERT INTO activities_activityassignee (activity_id, user_id, starts_at, last_ends_at, "
                           "is_long, open_task) VALUES (%s, %s, %s, %s, %s, %s)",
                           [activity_id, user.id, _db_time(start), _db_time(end), False, False])
            cursor.executemany("INSERT INTO activities_activitylink (activity_id, record_type, record_id) "
                               "VALUES (%s, %s, %s)",
                               [(activity_id, "account", account.pk), (activity_id, "contact", contact.pk)])
            cursor.execute("INSERT INTO core_historyentry (content_type_id, object_id, kind, actor_id, at, changes) "
                           "VALUES (%s, %s, 'created', %s, %s, %s)",
                           [content_type, activity_id, user.id, now, '{"subject": [null, "Call"]}'])
        return activity_id

    return run


def run_activities(bench: Bench, size: str, *, big: Account, typical: Account) -> None:
    """`typical` is the directory workloads' typical account; the activity workloads read another one
    that no workload writes to, and the create workload spreads its activities over other accounts, so
    that a reused data set keeps its shape (earlier runs' writes made the first typical account busy)."""
    user = bench.user
    candidates = (Contact.objects.exclude(account=big).filter(account__visibility="everyone")
                  .select_related("account").order_by("id"))
    typical = candidates[min(1000, candidates.count() - 1)].account
    write_targets = [(c.account, c) for c in candidates[2000:2500] if c.account_id != typical.pk]
    ordinary = User.objects.get(username=ORDINARY_USER)
    people = [(user, "bench0001, manager"), (ordinary, f"{ORDINARY_USER}, sales")]

    # 1. One user's calendar month (the bench month, in the user's time zone).
    for person, label in people:
        start, end = bench_month_range(person)
        count = len(selectors.calendar(user=person, people=[person], start=start, end=end))

        def calendar(person: User = person, start: dt.datetime = start, end: dt.datetime = end) -> Any:
            return selectors.calendar(user=person, people=[person], start=start, end=end)

        bench.measure(f"calendar_month_{person.username}",
                      f"selectors.calendar: {label}, {BENCH_MONTH:%B %Y} ({count:,} occurrences)",
                      CALENDAR_TARGET, calendar, _calendar_raw(person, start, end), _nonempty)

    # 2. My Current Tasks.
    for person, label in people:
        bench.measure(f"current_tasks_{person.username}", f"selectors.current_tasks: {label} (50 open tasks)",
                      TASKS_TARGET, lambda person=person: selectors.current_tasks(user=person),
                      _tasks_raw(person), _nonempty)

    # 3. A record's activities panel: the account with 5,000 contacts, and a typical one.
    for label, account in (("big", big), ("typical", typical)):
        linked = ActivityLink.objects.filter(record_type="account", record_id=account.pk).count()
        bench.measure(f"activities_about_{label}",
                      f"selectors.activities_about: {label} account ({linked:,} linked activities)", PANEL_TARGET,
                      lambda account=account: selectors.activities_about(user=user, record=account),
                      _about_raw(user, account), _nonempty)

    # 4. Create an activity: a call regarding a contact and its account, assigned to its owner.
    kind = ActivityKind.objects.get(key="call")
    targets = iter(write_targets * 1000)
    base = dt.datetime(2027, 2, 1, 9, 0, tzinfo=dt.UTC)  # beyond the bench month: the calendars stay as measured
    counter = iter(range(10**9))

    def next_start() -> dt.datetime:
        return base + dt.timedelta(minutes=15 * (next(counter) % 4000))

    def create() -> Activity:
        start = next_start()
        account, contact = next(targets)
        return services.activity_create(actor=user, data={
            "activity_type": "event", "kind": kind, "subject": "Call about the renewal", "starts_at": start,
            "ends_at": start + dt.timedelta(minutes=30)}, regarding=[account, contact])

    bench.measure("create_activity", "services.activity_create: a call regarding a contact and its account",
                  CREATE_TARGET, create, _create_raw(user, targets, kind.pk, next_start),
                  lambda activity: None if activity.pk else _fail("not created"))

    # 5. The pages, once they exist.
    run_activity_pages(bench, size, big=big, typical=typical)


def run_activity_pages(bench: Bench, size: str, *, big: Account, typical: Account) -> None:
    hx = {"HX-Request": "true"}
    for label, account in (("big", big), ("typical", typical)):
        try:
            url = reverse("record_activities", args=[account.ref])
        except NoReverseMatch:
            break
        bench.measure(f"activities_panel_{label}", f"Account page's activities panel (htmx), {label} account",
                      "part of the record page (15 / 60 ms)", lambda url=url: bench.client.get(url, headers=hx),
                      None, _ok)
        notes_url = reverse("record_notes", args=[account.ref])
        bench.measure(f"notes_panel_{label}", f"Account page's notes panel (htmx), {label} account",
                      "part of the record page (15 / 60 ms)", lambda url=notes_url: bench.client.get(url, headers=hx),
                      None, _ok)
    api = "/api/v1"
    start, end = bench_month_range(bench.user)
    for name, description, params in (
        ("api_activities_open_tasks", "GET /api/v1/activities?assigned_to=me&status=open&type=task&limit=50",
         {"assigned_to": "me", "status": "open", "type": "task", "limit": 50}),
        ("api_activities_month", f"GET /api/v1/activities?assigned_to=me&start=…&end=… ({BENCH_MONTH:%B %Y})",
         {"assigned_to": "me", "start": start.isoformat(), "end": end.isoformat()}),
    ):
        bench.measure(name, description, "10 / 50 ms (list)" if "limit" in params else CALENDAR_TARGET,
                      lambda params=params: bench.client.get(f"{api}/activities", params), None, _ok)
    calendar_url = _route("calendar")
    if calendar_url:
        url = f"{calendar_url}?view=month&date={BENCH_MONTH.isoformat()}"
        bench.measure("calendar_page", f"Calendar page, month view: {url}", CALENDAR_TARGET,
                      lambda: bench.client.get(url), None, _ok)
    home_url = _route("my_home")
    if home_url:
        bench.measure("my_home_page", f"My Home page: {home_url}", "(My Current Tasks: 5 / 25 ms)",
                      lambda: bench.client.get(home_url), None, _ok)


def _nonempty(result: Any) -> None:
    if not result:
        raise AssertionError("the workload found nothing: is the data set seeded with activities?")


def _fail(message: str) -> None:
    raise AssertionError(message)
