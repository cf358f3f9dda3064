"""The in-process workloads: each one a page or endpoint a user feels, beside the raw SQL for the same answer.

Each workload is measured through the Django test client (middleware,
selectors, templates — all of it), and its raw-SQL floor is a hand-written
query that returns the same rows, timed on the same connection in the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Max
from django.test import Client

from rapport.core.models import User
from rapport.core.pagination import Ordering, _make_cursor
from rapport.directory.models import Account, Contact
from rapport.seed import BIG_ACCOUNT, HEAVY_USER

PAGE_SIZE = 50


@dataclass
class Result:
    name: str
    description: str
    runs: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    queries: int
    raw_p50_ms: float | None = None
    raw_p99_ms: float | None = None
    target: str = ""

    @property
    def ratio_to_raw(self) -> float | None:
        if not self.raw_p50_ms:
            return None
        return round(self.p50_ms / self.raw_p50_ms, 1)

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["ratio_to_raw"] = self.ratio_to_raw
        return data


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return round(statistics.median(ordered), 2), round(pick(0.95), 2), round(pick(0.99), 2)


# A workload stops sampling after this long once it has MIN_RUNS samples: a slow one (a miss) still
# gets its percentiles, without holding the run up for an hour.
TIME_BUDGET_S = 30.0
MIN_RUNS = 10


def _time(fn: Callable[[], Any], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    deadline = time.perf_counter() + TIME_BUDGET_S
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        if len(samples) >= MIN_RUNS and time.perf_counter() > deadline:
            break
    return samples


def _raw(sql: str, params: list[Any]) -> Callable[[], Any]:
    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run



def _count_queries(fn: Callable[[], Any]) -> int:
    """How many SQL statements one call executes (counted as they run, whatever DEBUG says)."""
    executed = 0

    def counter(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal executed
        executed += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        fn()
    return executed


class Bench:
    def __init__(self, runs: int) -> None:
        self.runs = runs
        self.user = User.objects.get(username=HEAVY_USER)
        self.client = Client()
        self.client.force_login(self.user)
        self.results: list[Result] = []

    def measure(self, name: str, description: str, target: str, request: Callable[[], Any],
                raw: Callable[[], Any] | None = None, check: Callable[[Any], None] | None = None) -> Result:
        response = request()
        if check is not None:
            check(response)
        queries = _count_queries(request)
        samples = _time(request, self.runs)
        p50, p95, p99 = _percentiles(samples)
        result = Result(name=name, description=description, runs=len(samples), p50_ms=p50, p95_ms=p95, p99_ms=p99,
                        queries=queries, target=target)
        if raw is not None:
            raw_p50, _p95, raw_p99 = _percentiles(_time(raw, self.runs))
            result.raw_p50_ms, result.raw_p99_ms = raw_p50, raw_p99
        self.results.append(result)
        return result


def vacuum(*tables: str) -> None:
    """PostgreSQL: clear away what a workload deleted or rolled back to leave the data set as it found it.
    Those are hundreds of thousands of the newest rows at once (a sweep's follow-ups), which no user's day
    deletes; until autovacuum's threshold (a fifth of a table) is reached, the dead index entries they leave
    at the newest end of every index slowed the workloads measured after them (global search's look at each
    type's newest rows: 25 ms became 130 ms)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) " + ", ".join(connection.ops.quote_name(table) for table in tables))


def delete_records(model: type[Any], ids: list[int]) -> None:
    """Delete records a workload made, with their search entries and history, 500 at a time."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from rapport.core.models import HistoryEntry
    from rapport.search.index import unindex_records

    content_type = ContentType.objects.get_for_model(model)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        with transaction.atomic():
            model._default_manager.filter(pk__in=chunk).delete()
            unindex_records(model, chunk)  # a QuerySet.delete() leaves the search index alone
            HistoryEntry.objects.filter(content_type=content_type, object_id__in=chunk).delete()


class Writes:
    """The newest activity, contact and account before a run: what the run's writes add after them (the
    in-process creates, the HTTP load's "Loadtest" contacts and "Load call" activities) is deleted at its end.
    Left in place, a reused data set's newest rows were the last run's load ("Load call 1", "Load call 2"...),
    which search looks through first: its figures measured the benchmark's litter, not the data set."""

    MODELS = ("activities.Activity", "directory.Contact", "directory.Account")

    def __init__(self, *, keep_owners: tuple[str, ...] = ()) -> None:
        """keep_owners: users whose records a workload makes once and reuses (the calendar sync's events)."""
        from django.apps import apps

        self.keep_owners = keep_owners
        self.models = [apps.get_model(label) for label in self.MODELS]
        self.before = {model: model._default_manager.aggregate(m=Max("id"))["m"] or 0 for model in self.models}

    def delete(self) -> int:
        deleted = 0
        for model, last in self.before.items():
            made = model._default_manager.filter(id__gt=last).exclude(owner__username__in=self.keep_owners)
            ids = list(made.values_list("id", flat=True))
            delete_records(model, ids)
            deleted += len(ids)
        vacuum(*(model._meta.db_table for model in self.models), "search_entry", "core_historyentry")
        return deleted


def _ok(response: Any) -> None:
    if response.status_code != 200:
        raise AssertionError(f"{response.status_code}: {response.content[:300]!r}")


def _visibility_sql(user: User, alias: str = "c") -> tuple[str, list[Any]]:
    """The read rule of core.access for a user with read scope 'all' (a manager, sales), written by hand."""
    team_ids = list(User.objects.filter(team_id=user.team_id).values_list("id", flat=True))
    managed = list(User.objects.filter(team__manager=user).values_list("id", flat=True))
    team_marks = ", ".join(["%s"] * len(team_ids)) or "NULL"
    managed_marks = ", ".join(["%s"] * len(managed)) or "NULL"
    c = alias
    sql = (f"({c}.owner_id = %s OR {c}.visibility = 'everyone' OR ({c}.visibility = 'team' AND {c}.owner_id IN "
           f"({team_marks})) OR {c}.owner_id IN ({managed_marks}))")
    return sql, [user.id, *team_ids, *managed]


def run_all(runs: int, size: str) -> list[Result]:
    bench = Bench(runs)
    user = bench.user
    vis_sql, vis_params = _visibility_sql(user)
    big = Account.objects.get(name=BIG_ACCOUNT)
    typical = Contact.objects.exclude(account=big).filter(account__visibility="everyone").order_by("id")[100].account

    # 1. Contact list, two filters (owner, attribute) and a sort, page 1.
    list_url = "/contacts/?owner=me&attr=region:north&ordering=name"
    bench.measure(
        "contact_list_filtered_p1", "Contact list: owner=me, attr region:north, sorted by name, page 1",
        "10 / 50 ms, within raw + 8 ms", lambda: bench.client.get(list_url),
        _raw((f"SELECT c.id, c.public_id, c.first_name, c.last_name, c.email, c.phone, u.first_name, a.name "
                 f"FROM directory_contact c JOIN core_user u ON u.id = c.owner_id "
                 f"LEFT JOIN directory_account a ON a.id = c.account_id "
                 f"WHERE c.deleted_at IS NULL AND {vis_sql} AND c.owner_id = %s AND EXISTS "
                 f"(SELECT 1 FROM directory_attribute t WHERE t.key = 'region' AND t.value = 'north' "
                 f"AND t.contact_id = c.id) ORDER BY c.name_key, c.id LIMIT 51"), [*vis_params, user.id]),
        _ok,
    )

    # 2. The same list's total (exact up to 1,000, then "1,000+"), which the page fetches right after its rows.
    bench.measure(
        "contact_list_total", "The filtered list's total, counted up to 1,001 (its own request)",
        "(list page)", lambda: bench.client.get(list_url + "&part=count"),
        _raw((f"SELECT COUNT(*) FROM (SELECT c.id FROM directory_contact c WHERE c.deleted_at IS NULL AND "
                 f"{vis_sql} AND c.owner_id = %s AND EXISTS (SELECT 1 FROM directory_attribute t "
                 f"WHERE t.key = 'region' AND t.value = 'north' AND t.contact_id = c.id) LIMIT 1001) x"),
             [*vis_params, user.id]),
        _ok,
    )

    # 3. Deep page of the whole list, sorted by name (page 10,000 on medium; the middle on small).
    total = Contact.objects.count()
    depth_page = min(10_000, max(1, total // PAGE_SIZE // 2))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name_key FROM directory_contact WHERE deleted_at IS NULL "
                       "ORDER BY name_key, id LIMIT 1 OFFSET %s", [depth_page * PAGE_SIZE - 1])
        row_id, _name_key = cursor.fetchone()
    anchor = Contact.objects.get(pk=row_id)
    cursor_token = _make_cursor(Ordering(name="name", field="name_key"), anchor, backwards=False)
    deep_url = f"/contacts/?ordering=name&cursor={cursor_token}"
    bench.measure(
        "contact_list_deep", f"Contact list sorted by name, page {depth_page:,} (keyset, no OFFSET)",
        "10 / 50 ms, within raw + 8 ms", lambda: bench.client.get(deep_url),
        _raw((f"SELECT c.id, c.public_id, c.first_name, c.last_name, c.email, u.first_name, a.name "
                 f"FROM directory_contact c JOIN core_user u ON u.id = c.owner_id "
                 f"LEFT JOIN directory_account a ON a.id = c.account_id "
                 f"WHERE c.deleted_at IS NULL AND {vis_sql} AND c.name_key >= %s AND (c.name_key > %s OR c.id > %s) "
                 f"ORDER BY c.name_key, c.id LIMIT 51"), [*vis_params, anchor.name_key, anchor.name_key, anchor.id]),
        _ok,
    )

    # 4. Search as you type on the contact list (prefix of the name), the htmx partial.
    bench.measure(
        "contact_search_prefix", "Contact list search as you type: q=mül (htmx partial)",
        "30 / 150 ms (global search target)",
        lambda: bench.client.get("/contacts/?q=mül", headers={"HX-Request": "true", "HX-Target": "results"}),
        _raw((f"SELECT c.id, c.public_id, c.first_name, c.last_name FROM directory_contact c "
                 f"WHERE c.deleted_at IS NULL AND {vis_sql} AND c.name_key >= %s AND c.name_key < %s "
                 f"ORDER BY c.name_key, c.id LIMIT 51"),
             [*vis_params, "mul", "mul\U0010ffff"]),
        _ok,
    )

    # 5. Account detail: the account with 5,000 contacts, and a typical one.
    for label, account in (("big", big), ("typical", typical)):
        url = f"/accounts/{account.public_id}/"
        bench.measure(
            f"account_detail_{label}", f"Account page ({label}: {account.contacts.count():,} contacts)",
            "15 / 60 ms, at most 8 queries", lambda url=url: bench.client.get(url),
            _raw((f"SELECT c.id, c.public_id, c.first_name, c.last_name, c.title, c.email FROM directory_contact c "
                     f"WHERE c.deleted_at IS NULL AND {vis_sql} AND c.account_id = %s "
                     f"ORDER BY c.name_key, c.id LIMIT 100"), [*vis_params, account.id]),
            _ok,
        )

    # 6. API list with a filter.
    bench.measure(
        "api_contacts_owner", "GET /api/v1/contacts?owner=me&limit=50",
        "10 / 50 ms", lambda: bench.client.get("/api/v1/contacts", {"owner": "me", "limit": 50}),
        None, _ok,
    )

    # 7. A write: create an account through the API (validation, duplicate check, history).
    counter = iter(range(10**9))
    nonce = f"{time.time_ns():x}"  # a reused data set already holds earlier runs' writes

    def create() -> Any:
        n = next(counter)
        body = {"name": f"Bench write {n}", "email": f"w{n}.{nonce}@write.example", "remarks": "region=north"}
        return bench.client.post("/api/v1/accounts", body, content_type="application/json")

    def created(response: Any) -> None:
        if response.status_code != 201:
            raise AssertionError(f"{response.status_code}: {response.content[:300]!r}")

    bench.measure("create_account", "POST /api/v1/accounts (duplicate check, attributes, history)",
                  "15 / 60 ms", create, None, created)
    from bench.activity_workloads import run_activities

    run_activities(bench, size, big=big, typical=typical)
    return bench.results
