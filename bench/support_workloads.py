"""The support workloads (issue 5): the support list (page 1, awaiting my answer, mine, open and
overdue), an account's support panel, an item's detail, the top bar's "awaiting your answer" badge,
and the create → assign → accept cycle — each beside the hand-written SQL for the same rows.

As with the sales workloads, the selectors and services are called in process, as a page or the API
would, with the user's rights already resolved (a request resolves them once); the pages, once their
routes exist, go through Django's test client. The cycle deletes what it made afterwards (items,
requests, private copies and their tasks, history, queued mail), so a reused data set keeps its shape.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count, Max
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bench.workloads import PAGE_SIZE, Bench, Result, _ok, _raw, _visibility_sql
from rapport.activities.models import Activity, ActivityKind
from rapport.core.models import HistoryEntry, User
from rapport.core.pagination import Ordering, keyset_page
from rapport.directory.models import Account, Contact
from rapport.mail.models import OutboxMessage
from rapport.search.index import unindex_records
from rapport.seed import BIG_ACCOUNT
from rapport.support import selectors, services
from rapport.support.models import OPEN_SUPPORT_STATUSES, RequestState, SupportItem, SupportRequest

LIST_TARGET = "10 / 50 ms, within raw + 8 ms"
BADGE_TARGET = "≤ 2 ms (every page)"
DETAIL_TARGET = "record page: 15 / 60 ms"
PANEL_TARGET = "part of the record page (15 / 60 ms)"
CYCLE_TARGET = "p95 ≤ 60 ms (3 writes, an email queued)"

NEWEST_FIRST = Ordering(name="-created_at", field="created_at", descending=True)
OPEN_MARKS = ", ".join(f"'{status}'" for status in OPEN_SUPPORT_STATUSES)

ITEM_COLUMNS = ("i.id, i.public_id, i.reference, i.subject, i.status, i.priority, i.due_on, i.created_at, "
                "i.owner_id, i.assignee_id, i.visibility")
ITEM_JOINS = ("FROM support_supportitem i JOIN core_user u ON u.id = i.owner_id "
              "LEFT JOIN core_user s ON s.id = i.assignee_id LEFT JOIN directory_account a ON a.id = i.account_id "
              "LEFT JOIN directory_contact c ON c.id = i.contact_id "
              "LEFT JOIN support_supportcategory k ON k.id = i.category_id")
ITEM_NAMES = "u.first_name, u.last_name, s.first_name, s.last_name, a.name, c.first_name, c.last_name, k.name"


def _day(value: dt.date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def _moment(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _support_visibility_sql(user: User, alias: str = "i") -> tuple[str, list[Any]]:
    """Items add one rule to visibility: whoever is asked to handle one sees it."""
    sql, params = _visibility_sql(user, alias=alias)
    return f"({sql[1:-1]} OR {alias}.assignee_id = %s)", [*params, user.id]


# --- The raw SQL twins -------------------------------------------------------------------------------


def _list_raw(user: User, where: str = "", params: list[Any] | None = None) -> Callable[[], Any]:
    """Page 1 of the visible items, newest first, with owner, assignee, account, contact and category."""
    vis_sql, vis_params = _support_visibility_sql(user)
    sql = (f"SELECT {ITEM_COLUMNS}, {ITEM_NAMES} {ITEM_JOINS} WHERE i.deleted_at IS NULL AND {vis_sql} {where} "
           f"ORDER BY i.created_at DESC, i.id DESC LIMIT {PAGE_SIZE + 1}")
    return _raw(sql, [*vis_params, *(params or [])])


def _panel_raw(user: User, account: Account) -> Callable[[], Any]:
    vis_sql, vis_params = _support_visibility_sql(user)
    sql = (f"SELECT {ITEM_COLUMNS}, s.first_name, s.last_name, k.name FROM support_supportitem i "
           f"LEFT JOIN core_user s ON s.id = i.assignee_id LEFT JOIN support_supportcategory k ON k.id = i.category_id "
           f"WHERE i.deleted_at IS NULL AND {vis_sql} AND i.account_id = %s "
           f"ORDER BY i.created_at DESC, i.id DESC LIMIT {selectors.PANEL_ROWS}")
    return _raw(sql, [*vis_params, account.pk])


def _detail_raw(user: User, item: SupportItem) -> Callable[[], Any]:
    """The item with its names, its request chain with theirs, and its history: three queries."""
    vis_sql, vis_params = _support_visibility_sql(user)
    item_sql = (f"SELECT {ITEM_COLUMNS}, i.description, i.closed_at, i.returned_at, {ITEM_NAMES}, o.name "
                f"{ITEM_JOINS} LEFT JOIN sales_opportunity o ON o.id = i.opportunity_id "
                f"WHERE i.public_id = %s AND i.deleted_at IS NULL AND {vis_sql}")
    chain_sql = ("SELECT r.id, r.public_id, r.state, r.message, r.reason, r.created_at, r.answered_at, "
                 "p.first_name, p.last_name, b.first_name, b.last_name, w.first_name, w.last_name "
                 "FROM support_supportrequest r JOIN core_user p ON p.id = r.recipient_id "
                 "JOIN core_user b ON b.id = r.requested_by_id LEFT JOIN core_user w ON w.id = r.answered_by_id "
                 "WHERE r.item_id = %s ORDER BY r.created_at, r.id")
    history_sql = ("SELECT h.id, h.kind, h.at, h.changes, u.first_name, u.last_name FROM core_historyentry h "
                   "LEFT JOIN core_user u ON u.id = h.actor_id WHERE h.content_type_id = %s AND h.object_id = %s "
                   "ORDER BY h.at DESC, h.id DESC LIMIT 100")
    content_type = ContentType.objects.get_for_model(SupportItem).pk

    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(item_sql, [item.public_id, *vis_params])
            row = cursor.fetchone()
            cursor.execute(chain_sql, [item.pk])
            chain = cursor.fetchall()
            cursor.execute(history_sql, [content_type, item.pk])
            return row, chain, cursor.fetchall()

    return run


def _badge_raw(user: User) -> Callable[[], Any]:
    return _raw("SELECT COUNT(*) FROM support_supportrequest r JOIN support_supportitem i ON i.id = r.item_id "
                "WHERE r.recipient_id = %s AND r.state = 'pending' AND i.deleted_at IS NULL", [user.pk])


def _cycle_raw(owner: User, recipient: User, targets: Iterator[tuple[Account, Contact]]) -> Callable[[], Any]:
    """The cycle by hand, in one transaction each step as the services do: the next reference, the item,
    the owner's private copy (a task assigned to them, linked to the item) and the history; the request,
    the item's new assignee and status, the queued email; the request answered, the item in progress
    and the recipient's private copy."""
    item_type = ContentType.objects.get_for_model(SupportItem).pk
    activity_type = ContentType.objects.get_for_model(Activity).pk
    todo = ActivityKind.objects.filter(key="todo").values_list("id", flat=True).first() \
        or ActivityKind.objects.order_by("position").values_list("id", flat=True).first()
    today = _day(timezone.localdate())
    midnight = _moment(dt.datetime.combine(timezone.localdate(), dt.time(0), tzinfo=dt.UTC))
    history = ("INSERT INTO core_historyentry (content_type_id, object_id, kind, actor_id, at, changes) "
               "VALUES (%s, %s, %s, %s, %s, %s)")

    def private_copy(cursor: Any, item_id: int, holder: User, subject: str, now: Any) -> None:
        public_id = secrets.token_hex(8)
        cursor.execute(
            "INSERT INTO activities_activity (public_id, uid, owner_id, visibility, version, created_at, updated_at, "
            "created_by_id, activity_type, kind_id, subject, description, location, status, priority, starts_at, "
            "ends_at, all_day, time_zone, rrule, ical_source) VALUES (%s, %s, %s, 'private', 1, %s, %s, %s, 'task', "
            "%s, %s, '', '', 'open', 'normal', %s, %s, %s, 'Europe/Berlin', '', '') RETURNING id",
            [public_id, public_id, holder.pk, now, now, holder.pk, todo, subject, midnight, midnight, True])
        task_id = cursor.fetchone()[0]
        cursor.execute("INSERT INTO activities_activityassignee (activity_id, user_id, starts_at, last_ends_at, "
                       "is_long, open_task) VALUES (%s, %s, %s, %s, %s, %s)",
                       [task_id, holder.pk, midnight, midnight, False, True])
        cursor.execute("INSERT INTO activities_activitylink (activity_id, record_type, record_id) "
                       "VALUES (%s, 'support_item', %s)", [task_id, item_id])
        cursor.execute("INSERT INTO support_privatecopy (public_id, item_id, holder_id, task_id, notes) "
                       "VALUES (%s, %s, %s, %s, '')", [secrets.token_hex(8), item_id, holder.pk, task_id])
        cursor.execute(history, [activity_type, task_id, "created", holder.pk, now,
                                 json.dumps({"subject": [None, subject]})])

    def run() -> Any:
        account, contact = next(targets)
        subject = "Printer offline (bench, raw)"
        with transaction.atomic(), connection.cursor() as cursor:
            now = _moment(timezone.now())
            cursor.execute("UPDATE core_numbersequence SET last_value = last_value + 1 WHERE name = %s "
                           "RETURNING last_value", [services.SUPPORT_SERIES])
            reference = f"SUP-{cursor.fetchone()[0]}"
            cursor.execute(
                "INSERT INTO support_supportitem (public_id, owner_id, visibility, version, created_at, updated_at, "
                "created_by_id, reference, subject, description, priority, status, due_on, due_sort, account_id, "
                "contact_id, source) VALUES (%s, %s, 'everyone', 1, %s, %s, %s, %s, %s, '', 'high', 'new', %s, %s, %s, "
                "%s, 'app') RETURNING id",
                [secrets.token_hex(8), owner.pk, now, now, owner.pk, reference, subject, today, today, account.pk,
                 contact.pk])
            item_id = cursor.fetchone()[0]
            cursor.execute(history, [item_type, item_id, "created", owner.pk, now,
                                     json.dumps({"subject": [None, subject]})])
            private_copy(cursor, item_id, owner, f"{reference}: {subject}", now)
        with transaction.atomic(), connection.cursor() as cursor:
            now = _moment(timezone.now())
            cursor.execute(
                "INSERT INTO support_supportrequest (public_id, item_id, recipient_id, requested_by_id, state, "
                "message, reason, created_at, links_expire_at) VALUES (%s, %s, %s, %s, 'pending', '', '', %s, %s) "
                "RETURNING id", [secrets.token_hex(8), item_id, recipient.pk, owner.pk, now,
                                 _moment(timezone.now() + dt.timedelta(days=services.LINK_DAYS))])
            request_id = cursor.fetchone()[0]
            cursor.execute("UPDATE support_supportitem SET assignee_id = %s, status = 'assigned', "
                           "version = version + 1, updated_at = %s WHERE id = %s", [recipient.pk, now, item_id])
            cursor.execute(history, [item_type, item_id, "updated", owner.pk, now,
                                     json.dumps({"status": ["new", "assigned"]})])
            cursor.execute(
                "INSERT INTO mail_outboxmessage (public_id, kind, from_email, \"to\", subject, body, html_body, "
                "headers, message_id, status, attempts, next_attempt_at, last_error, created_at) "
                "VALUES (%s, 'support_request', %s, %s, %s, %s, '', '{}', %s, 'queued', 0, %s, '', %s)",
                [secrets.token_hex(8), "rapport@example.invalid", json.dumps([recipient.email]),
                 f"[{reference}] Support request: {subject}", "A support request is waiting for you." * 20,
                 f"<{secrets.token_hex(8)}@bench>", now, now])
        with transaction.atomic(), connection.cursor() as cursor:
            now = _moment(timezone.now())
            cursor.execute("UPDATE support_supportrequest SET state = 'accepted', answered_at = %s, "
                           "answered_by_id = %s WHERE id = %s AND state = 'pending'", [now, recipient.pk, request_id])
            cursor.execute("UPDATE support_supportitem SET status = 'in_progress', version = version + 1, "
                           "updated_at = %s WHERE id = %s", [now, item_id])
            cursor.execute(history, [item_type, item_id, "updated", recipient.pk, now,
                                     json.dumps({"status": ["assigned", "in_progress"]})])
            private_copy(cursor, item_id, recipient, f"{reference}: {subject}", now)
        return item_id

    return run


class _Snapshot:
    """The highest ids before a write workload, so that everything it made can be deleted after it (the
    benchmark is the only writer while it runs)."""

    def __init__(self) -> None:
        self.started = timezone.now()
        self.item = SupportItem.objects.aggregate(m=Max("id"))["m"] or 0
        self.activity = Activity.objects.aggregate(m=Max("id"))["m"] or 0
        self.outbox = OutboxMessage.objects.aggregate(m=Max("id"))["m"] or 0

    def clean_up(self) -> None:
        item_ids = list(SupportItem.objects.filter(id__gt=self.item).values_list("id", flat=True))
        activity_ids = list(Activity.objects.filter(id__gt=self.activity).values_list("id", flat=True))
        types = {ContentType.objects.get_for_model(SupportItem).pk: item_ids,
                 ContentType.objects.get_for_model(Activity).pk: activity_ids}
        with transaction.atomic():
            for start in range(0, len(item_ids), 500):
                SupportItem.objects.filter(pk__in=item_ids[start:start + 500]).delete()
            for start in range(0, len(activity_ids), 500):
                Activity.objects.filter(pk__in=activity_ids[start:start + 500]).delete()
            unindex_records(SupportItem, item_ids)  # a QuerySet.delete() leaves the search index alone
            unindex_records(Activity, activity_ids)
            for content_type, ids in types.items():
                for start in range(0, len(ids), 500):
                    HistoryEntry.objects.filter(content_type_id=content_type,
                                                object_id__in=ids[start:start + 500]).delete()
            OutboxMessage.objects.filter(id__gt=self.outbox).delete()
            try:  # the outbox's wake-up jobs (the database task backend)
                from django_tasks_db.models import DBTaskResult

                DBTaskResult.objects.filter(task_path__endswith="deliver_mail", enqueued_at__gte=self.started,
                                            status="READY").delete()
            except (ImportError, RuntimeError):
                pass


# --- The workloads -----------------------------------------------------------------------------------


def _bench_support_users() -> tuple[User, User, User]:
    """The ordinary Support user (the first by name), the user with the most requests awaiting their
    answer, and a second Support user to hand items to."""
    support = list(User.objects.filter(username__regex=r"^bench[0-9]{4}$", roles__slug="support")
                   .order_by("username"))
    if len(support) < 2:
        raise AssertionError("the data set has fewer than two Support users")
    busiest = (SupportRequest.objects.filter(state=RequestState.PENDING).values("recipient_id")
               .annotate(n=Count("id")).order_by("-n", "recipient_id").first())
    awaiting = User.objects.get(pk=busiest["recipient_id"]) if busiest else support[0]
    return support[0], awaiting, support[1]


def run_support_all(runs: int, size: str) -> list[Result]:
    """The support workloads on their own Bench, for bench.run."""
    bench = Bench(runs)
    run_support(bench, size)
    return bench.results


def run_support(bench: Bench, size: str) -> None:
    user, awaiting_user, colleague = _bench_support_users()
    today = timezone.localdate()

    def page(person: User, params: dict[str, str]) -> list[SupportItem]:
        qs = selectors.support_item_list(user=person, params=params)
        return keyset_page(qs, ordering=NEWEST_FIRST, cursor=None, limit=PAGE_SIZE).items

    # 1. The support list, page 1, newest first; awaiting my answer; mine; open and overdue.
    visible = SupportItem.objects.visible_to(user).count()
    lists: list[tuple[str, str, User, dict[str, str], str, list[Any]]] = [
        ("support_list", f"{user.username}, Support ({visible:,} visible)", user, {}, "", []),
        ("support_list_awaiting", f"view=awaiting: {awaiting_user.username} "
         f"({SupportRequest.objects.filter(recipient=awaiting_user, state=RequestState.PENDING).count():,} waiting)",
         awaiting_user, {"view": "awaiting"}, "AND i.assignee_id = %s AND i.status = 'assigned'", [awaiting_user.pk]),
        ("support_list_mine", f"view=mine: {user.username} "
         f"({SupportItem.objects.alive().filter(owner=user).count():,} own)",
         user, {"view": "mine"}, "AND i.owner_id = %s", [user.pk]),
        ("support_list_overdue", f"status=open&overdue=true: {user.username} "
         f"({SupportItem.objects.visible_to(user).filter(status__in=OPEN_SUPPORT_STATUSES, due_on__lt=today).count():,}"
         f" overdue on {today})",
         user, {"status": "open", "overdue": "true"}, f"AND i.status IN ({OPEN_MARKS}) AND i.due_on < %s",
         [_day(today)]),
    ]
    for name, label, person, params, where, where_params in lists:
        bench.measure(name, f"selectors.support_item_list, page 1 of 50, newest first: {label}", LIST_TARGET,
                      lambda person=person, params=params: page(person, params),
                      _list_raw(person, where, where_params), _nonempty)

    # 2. The support panel of Megacorp's account page, as the heavy user (who sees the account; the
    # Support user of the lists, in the other team, does not).
    big = Account.objects.get(name=BIG_ACCOUNT)
    on_big = SupportItem.objects.alive().filter(account=big).count()
    bench.measure("account_support_big",
                  f"selectors.record_support_items: big account ({on_big:,} items), newest {selectors.PANEL_ROWS}, "
                  f"as {bench.user.username}", PANEL_TARGET,
                  lambda: selectors.record_support_items(user=bench.user, record=big),
                  _panel_raw(bench.user, big), _nonempty)

    # 3. An item's detail: one that was passed on once, with an account and a contact.
    passed = SupportRequest.objects.filter(state=RequestState.PASSED_ON, item__deleted_at__isnull=True,
                                           item__contact__isnull=False).values_list("item_id", flat=True)
    item = (SupportItem.objects.visible_to(user).filter(pk__in=passed).order_by("id").first()
            or SupportItem.objects.visible_to(user).filter(contact__isnull=False).order_by("id").first())
    if item is None:
        raise AssertionError("no visible support item to open: is the data set seeded with its support items?")
    chain = item.requests.count()
    bench.measure("support_item_detail",
                  f"selectors.support_item_detail: {item.reference} ({chain} requests), as {user.username}",
                  DETAIL_TARGET, lambda: selectors.support_item_detail(user=user, public_id=item.public_id),
                  _detail_raw(user, item), lambda detail: _nonempty(detail["requests"]))

    # 4. The top bar's badge, on every page.
    waiting = selectors.awaiting_answer_count(awaiting_user)
    bench.measure("awaiting_answer_count",
                  f"selectors.awaiting_answer_count: {awaiting_user.username} ({waiting} waiting)", BADGE_TARGET,
                  lambda: selectors.awaiting_answer_count(awaiting_user), _badge_raw(awaiting_user),
                  lambda n: None if n == waiting else _fail(f"{n} != {waiting}"))

    # 5. The cycle: create (with a due date, an account and a contact), assign to a colleague, accept.
    if _route("support_detail", "x") is None or _route("support_answer", "x", "accept") is None:
        print("  (the support_detail / support_answer routes do not exist yet: the cycle is not measured)",
              flush=True)
    else:
        run_support_cycle(bench, user, colleague, big)

    # 6. The pages, once their routes exist.
    run_support_pages(bench, user, awaiting_user, item, big)


def run_support_cycle(bench: Bench, owner: User, recipient: User, big: Account) -> None:
    candidates = (Contact.objects.exclude(account=big).filter(account__visibility="everyone")
                  .select_related("account").order_by("id"))
    write_targets = [(c.account, c) for c in candidates[4000:4500]] or [(c.account, c) for c in candidates[:500]]
    targets = iter(write_targets * 1000)
    due = timezone.localdate() + dt.timedelta(days=3)

    def cycle() -> SupportRequest:
        account, contact = next(targets)
        item = services.support_item_create(actor=owner, data={
            "subject": "Printer offline (bench)", "priority": "high", "due_on": due, "account": account,
            "contact": contact})
        request = services.support_assign(actor=owner, item=item, recipient=recipient, message="Can you take this?")
        return services.support_accept(actor=recipient, request=request)

    snapshot = _Snapshot()
    try:
        bench.measure("support_cycle",
                      "services.support_item_create + support_assign (email queued) + support_accept: "
                      "private copies for both, history", CYCLE_TARGET, cycle, _cycle_raw(owner, recipient, targets),
                      lambda request: None if request.state == RequestState.ACCEPTED else _fail(request.state))
    finally:
        snapshot.clean_up()


def _route(name: str, *args: str) -> str | None:
    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        return None


def support_page_urls(item: SupportItem | None = None, account: Account | None = None) -> dict[str, str]:
    """The support pages of this build (they are being written): name -> URL, for those that resolve."""
    urls = {}
    if (path := _route("support_list")) is not None:
        urls["support_list"] = path
        urls["support_list_awaiting"] = f"{path}?view=awaiting"
    if item is not None and (path := _route("support_detail", item.public_id)) is not None:
        urls["support_detail"] = path
    if account is not None and (path := _route("record_support_items", f"account:{account.public_id}")) is not None:
        urls["record_support_items"] = path
    return urls


def run_support_pages(bench: Bench, user: User, awaiting_user: User, item: SupportItem, big: Account) -> None:
    """The pages through the test client, signed in as the Support users; a page that does not answer
    200 yet is left out, with a note."""
    clients = {}
    for person in (user, awaiting_user):
        client = Client()
        client.force_login(person)
        clients[person.pk] = client
    clients[bench.user.pk] = bench.client
    for name, url in support_page_urls(item, big).items():
        person = awaiting_user if name == "support_list_awaiting" else bench.user \
            if name == "record_support_items" else user
        client = clients[person.pk]
        headers = {"HX-Request": "true"} if name == "record_support_items" else {}
        status = client.get(url, headers=headers).status_code
        if status != 200:
            print(f"  (support page {url} answered {status}; not measured)", flush=True)
            continue
        target = LIST_TARGET if "list" in name else PANEL_TARGET if name == "record_support_items" else DETAIL_TARGET
        bench.measure(f"{name}_page", f"Page: {url} as {person.username}", target,
                      lambda client=client, url=url, headers=headers: client.get(url, headers=headers), None, _ok)


def _nonempty(result: Any) -> None:
    if not result:
        raise AssertionError("the workload found nothing: is the data set seeded with its support items?")


def _fail(message: str) -> None:
    raise AssertionError(message)
