"""The sales workloads (issue 7): the opportunity list, the pipeline board, the forecast, the order
list, an account's orders panel, and creating an order and an opportunity — each beside the
hand-written SQL for the same rows.

As with the activity workloads, the selector and service workloads call `rapport.sales` in process,
as a page or the API would, with the user's rights already resolved (a request resolves them once);
the pages, once they exist, go through Django's test client. The two create workloads delete what
they created afterwards (orders, opportunities and their history entries), so a reused data set
keeps its shape.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bench.workloads import PAGE_SIZE, Bench, Result, _ok, _raw, _visibility_sql, delete_records
from rapport.core.models import User
from rapport.core.pagination import Ordering, keyset_page
from rapport.core.text import fold
from rapport.directory.models import Account, Contact
from rapport.sales import selectors, services
from rapport.sales.models import Opportunity, Order, PipelineStage
from rapport.seed import BIG_ACCOUNT, ORDINARY_USER, SEED_NOW

LIST_TARGET = "10 / 50 ms, within raw + 8 ms"
BOARD_TARGET = "(no target yet; a list page: 10 / 50 ms)"
FORECAST_TARGET = "(dashboard: 300 ms cold, 50 ms warm)"
PANEL_TARGET = "part of the record page (15 / 60 ms)"
CREATE_TARGET = "15 / 60 ms"

BY_CLOSE = Ordering(name="expected_close_on", field="expected_close_on")
NEWEST_FIRST = Ordering(name="-ordered_on", field="ordered_on", descending=True)
# The forecast's six months from the data set's "now" (the selector's default follows the clock).
FORECAST_PARAMS = {"from": f"{SEED_NOW:%Y-%m}", "to": "2027-04"}

OPPORTUNITY_COLUMNS = ("o.id, o.public_id, o.name, o.amount, o.currency, o.probability, o.expected_close_on, "
                       "o.is_open, o.owner_id, o.visibility")
ORDER_COLUMNS = "r.id, r.public_id, r.number, r.ordered_on, r.amount, r.currency, r.status, r.owner_id, r.visibility"


def _day(value: dt.date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def _moment(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _month_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column})"
    return f"strftime('%%Y-%%m-01', {column})"


def _marks(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values)) or "NULL"


# --- The raw SQL twins -------------------------------------------------------------------------------


def _opportunity_list_raw(user: User, stage: PipelineStage | None = None) -> Callable[[], Any]:
    """Page 1 of the visible opportunities by expected close date, with owner, account, stage and
    pipeline, optionally in one stage."""
    vis_sql, vis_params = _visibility_sql(user, alias="o")
    stage_sql, stage_params = ("AND o.stage_id = %s", [stage.pk]) if stage is not None else ("", [])
    sql = (f"SELECT {OPPORTUNITY_COLUMNS}, u.first_name, u.last_name, a.name, s.name, p.name "
           f"FROM sales_opportunity o JOIN core_user u ON u.id = o.owner_id "
           f"JOIN directory_account a ON a.id = o.account_id JOIN sales_pipelinestage s ON s.id = o.stage_id "
           f"JOIN sales_pipeline p ON p.id = s.pipeline_id "
           f"WHERE o.deleted_at IS NULL AND {vis_sql} {stage_sql} ORDER BY o.expected_close_on, o.id LIMIT 51")
    return _raw(sql, [*vis_params, *stage_params])


def _board_raw(user: User, stages: list[PipelineStage]) -> Callable[[], Any]:
    """The board by hand: the totals per stage and currency in one GROUP BY, and each stage's first
    50 cards (soonest to close) in one UNION ALL of index range scans; won and lost columns keep
    the deals closed in the last BOARD_CLOSED_DAYS."""
    vis_sql, vis_params = _visibility_sql(user, alias="o")
    stage_ids = [s.pk for s in stages]
    closed_ids = [s.pk for s in stages if s.is_closed]
    since = timezone.localdate() - dt.timedelta(days=selectors.BOARD_CLOSED_DAYS)
    where = f"o.deleted_at IS NULL AND {vis_sql} AND o.stage_id IN ({_marks(stage_ids)})"
    params = [*vis_params, *stage_ids]
    if closed_ids:
        where += f" AND NOT (o.stage_id IN ({_marks(closed_ids)}) AND o.closed_on < %s)"
        params += [*closed_ids, _day(since)]
    totals_sql = (f"SELECT o.stage_id, o.currency, COUNT(*), SUM(o.amount), SUM(o.amount * o.probability) "
                  f"FROM sales_opportunity o WHERE {where} GROUP BY o.stage_id, o.currency")
    card = (f"SELECT {OPPORTUNITY_COLUMNS}, a.name AS account_name, u.first_name, u.last_name "
            f"FROM sales_opportunity o JOIN directory_account a ON a.id = o.account_id "
            f"JOIN core_user u ON u.id = o.owner_id WHERE {where} AND o.stage_id = %s "
            f"ORDER BY o.expected_close_on, o.id LIMIT {selectors.BOARD_CARDS}")
    cards_sql = " UNION ALL ".join(f"SELECT * FROM ({card}) c{i}" for i in range(len(stages)))
    cards_params = [value for stage in stages for value in (*params, stage.pk)]

    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(totals_sql, params)
            totals = cursor.fetchall()
            cursor.execute(cards_sql, cards_params)
            return totals, cursor.fetchall()

    return run


def _forecast_raw(user: User) -> Callable[[], Any]:
    """The forecast by hand: open deals closing in the six months, summed by month and currency and by
    owner and currency (the totals are the months' sums, added up in Python)."""
    vis_sql, vis_params = _visibility_sql(user, alias="o")
    start = dt.date.fromisoformat(f"{FORECAST_PARAMS['from']}-01")
    end = dt.date.fromisoformat(f"{FORECAST_PARAMS['to']}-01")
    last_day = (end + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    where = (f"o.deleted_at IS NULL AND {vis_sql} AND o.is_open = %s AND o.expected_close_on >= %s "
             f"AND o.expected_close_on <= %s")
    params = [*vis_params, True, _day(start), _day(last_day)]
    measures = "COUNT(*), SUM(o.amount), SUM(o.amount * o.probability)"
    month = _month_sql("o.expected_close_on")
    by_month = (f"SELECT {month} AS month, o.currency, {measures} FROM sales_opportunity o WHERE {where} "
                f"GROUP BY {month}, o.currency ORDER BY 1, 2")
    by_owner = (f"SELECT o.owner_id, u.first_name, u.last_name, u.username, o.currency, {measures} "
                f"FROM sales_opportunity o JOIN core_user u ON u.id = o.owner_id WHERE {where} "
                f"GROUP BY o.owner_id, u.first_name, u.last_name, u.username, o.currency "
                f"ORDER BY u.username, o.currency")

    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(by_month, params)
            months = cursor.fetchall()
            cursor.execute(by_owner, params)
            owners = cursor.fetchall()
        totals: dict[str, list[Any]] = {}
        for _month, currency, n, amount, weighted in months:
            row = totals.setdefault(currency, [0, Decimal(0), Decimal(0)])
            row[0] += n
            row[1] += Decimal(str(amount or 0))
            row[2] += Decimal(str(weighted or 0))
        return months, owners, totals

    return run


def _order_list_raw(user: User) -> Callable[[], Any]:
    vis_sql, vis_params = _visibility_sql(user, alias="r")
    sql = (f"SELECT {ORDER_COLUMNS}, u.first_name, u.last_name, a.name FROM sales_order r "
           f"JOIN core_user u ON u.id = r.owner_id JOIN directory_account a ON a.id = r.account_id "
           f"WHERE r.deleted_at IS NULL AND {vis_sql} ORDER BY r.ordered_on DESC, r.id DESC LIMIT 51")
    return _raw(sql, vis_params)


def _account_orders_raw(user: User, account: Account) -> Callable[[], Any]:
    vis_sql, vis_params = _visibility_sql(user, alias="r")
    sql = (f"SELECT {ORDER_COLUMNS} FROM sales_order r WHERE r.deleted_at IS NULL AND {vis_sql} "
           f"AND r.account_id = %s ORDER BY r.ordered_on DESC, r.id DESC LIMIT {selectors.PANEL_ROWS}")
    return _raw(sql, [*vis_params, account.pk])


def _last_order_raw(account: Account) -> Callable[[], Any]:
    sql = ("SELECT r.ordered_on FROM sales_order r WHERE r.deleted_at IS NULL AND r.account_id = %s "
           "AND r.status <> 'cancelled' ORDER BY r.ordered_on DESC LIMIT 1")
    return _raw(sql, [account.pk])


def _history_sql(content_type: int, record_id: int, user: User, changes: dict[str, Any]) -> tuple[str, list[Any]]:
    return ("INSERT INTO core_historyentry (content_type_id, object_id, kind, actor_id, at, changes) "
            "VALUES (%s, %s, 'created', %s, %s, %s)",
            [content_type, record_id, user.id, _moment(timezone.now()), json.dumps(changes)])


def _create_order_raw(user: User, targets: Iterator[tuple[Account, Contact]], made: list[int]) -> Callable[[], Any]:
    """Creating an order with two lines by hand: the next number of the series, the order, its lines
    and its history entry, in one transaction."""
    content_type = ContentType.objects.get_for_model(Order).pk
    columns = ("public_id, owner_id, visibility, version, created_at, updated_at, created_by_id, account_id, "
               "number, ordered_on, amount, currency, status, description")

    def run() -> Any:
        account, _contact = next(targets)
        now = _moment(timezone.now())
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE core_numbersequence SET last_value = last_value + 1 WHERE name = %s "
                           "RETURNING last_value", [services.ORDER_SERIES])
            number = f"ORD-{cursor.fetchone()[0]}"
            cursor.execute(
                f"INSERT INTO sales_order ({columns}) VALUES (%s, %s, 'everyone', 1, %s, %s, %s, %s, %s, %s, %s, "
                f"'EUR', 'open', '') RETURNING id",
                [secrets.token_hex(8), user.id, now, now, user.id, account.pk, number, _day(SEED_NOW.date()),
                 "4380.00"])
            order_id = cursor.fetchone()[0]
            cursor.executemany("INSERT INTO sales_orderline (order_id, position, product, quantity, unit_price, "
                               "amount) VALUES (%s, %s, %s, %s, %s, %s)",
                               [(order_id, 0, "Team licence", "2", "1890.00", "3780.00"),
                                (order_id, 1, "Installation", "1", "600.00", "600.00")])
            cursor.execute(*_history_sql(content_type, order_id, user, {"number": [None, number]}))
        made.append(order_id)
        return order_id

    return run


def _create_opportunity_raw(user: User, targets: Iterator[tuple[Account, Contact]], stage: PipelineStage,
                            made: list[int]) -> Callable[[], Any]:
    """Creating an opportunity by hand: the opportunity, its first stage change, its contact and its
    history entry, in one transaction."""
    content_type = ContentType.objects.get_for_model(Opportunity).pk
    columns = ("public_id, owner_id, visibility, version, created_at, updated_at, created_by_id, name, account_id, "
               "stage_id, amount, currency, probability, expected_close_on, source, next_step, outcome_reason, "
               "description, stage_changed_at, is_open, name_key")
    name = "Expansion (bench, raw)"

    def run() -> Any:
        account, contact = next(targets)
        now = _moment(timezone.now())
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO sales_opportunity ({columns}) VALUES (%s, %s, 'everyone', 1, %s, %s, %s, %s, %s, %s, "
                f"%s, 'EUR', %s, %s, 'Website', '', '', '', %s, %s, %s) RETURNING id",
                [secrets.token_hex(8), user.id, now, now, user.id, name, account.pk, stage.pk, "25000.00",
                 stage.probability, _day(SEED_NOW.date() + dt.timedelta(days=90)), now, True, fold(name)])
            opportunity_id = cursor.fetchone()[0]
            cursor.execute("INSERT INTO sales_opportunitystagechange (opportunity_id, from_stage_id, to_stage_id, "
                           "changed_at, changed_by_id) VALUES (%s, NULL, %s, %s, %s)",
                           [opportunity_id, stage.pk, now, user.id])
            cursor.execute("INSERT INTO sales_opportunitycontact (opportunity_id, contact_id, role) "
                           "VALUES (%s, %s, %s)", [opportunity_id, contact.pk, "Decision maker"])
            cursor.execute(*_history_sql(content_type, opportunity_id, user, {"name": [None, name]}))
        made.append(opportunity_id)
        return opportunity_id

    return run


def _clean_up(model: type[Any], ids: list[int]) -> None:
    """Delete what a create workload made (with its lines, stage changes, people and history)."""
    delete_records(model, ids)
    ids.clear()


# --- The workloads -----------------------------------------------------------------------------------


def run_sales_all(runs: int, size: str) -> list[Result]:
    """The sales workloads on their own Bench (signed in as the heavy user), for bench.run."""
    bench = Bench(runs)
    run_sales(bench, size)
    return bench.results


def run_sales(bench: Bench, size: str) -> None:
    user = bench.user
    ordinary = User.objects.get(username=ORDINARY_USER)
    people = [(user, "bench0001, manager"), (ordinary, f"{ORDINARY_USER}, sales")]
    big = Account.objects.get(name=BIG_ACCOUNT)
    pipeline = services.default_pipeline()
    stages = list(pipeline.stages.filter(is_active=True).order_by("position", "id"))
    open_stages = [s for s in stages if not s.is_closed]
    middle_stage = open_stages[min(3, len(open_stages) - 1)]

    # 1. The opportunity list, page 1 by expected close date; and in one stage.
    for person, label in people:
        visible = Opportunity.objects.visible_to(person).count()

        def opportunity_page(person: User = person, params: dict[str, str] | None = None) -> Any:
            qs = selectors.opportunity_list(user=person, params=params or {})
            return keyset_page(qs, ordering=BY_CLOSE, cursor=None, limit=PAGE_SIZE).items

        bench.measure(f"opportunity_list_{person.username}",
                      f"selectors.opportunity_list, page 1 of 50 by expected close: {label} ({visible:,} visible)",
                      LIST_TARGET, opportunity_page, _opportunity_list_raw(person), _nonempty)
        in_stage = Opportunity.objects.visible_to(person).filter(stage=middle_stage).count()
        params = {"stage": middle_stage.public_id}
        bench.measure(f"opportunity_list_stage_{person.username}",
                      f"selectors.opportunity_list, stage={middle_stage.name}, page 1 by expected close: {label} "
                      f"({in_stage:,} in the stage)", LIST_TARGET,
                      lambda person=person, params=params, page=opportunity_page: page(person, params),
                      _opportunity_list_raw(person, middle_stage), _nonempty)

    # 2. The pipeline board of the default pipeline.
    for person, label in people:
        bench.measure(f"pipeline_board_{person.username}",
                      f"selectors.pipeline_board: {label}, {len(stages)} stages, first {selectors.BOARD_CARDS} "
                      f"cards and totals per stage", BOARD_TARGET,
                      lambda person=person: selectors.pipeline_board(user=person),
                      _board_raw(person, stages), lambda board: _nonempty([c for c in board["columns"] if c.cards]))

    # 3. The forecast: open deals closing in the six months from November 2026, by month and by owner.
    for person, label in people:
        bench.measure(f"forecast_{person.username}",
                      f"selectors.forecast: {label}, {FORECAST_PARAMS['from']} to {FORECAST_PARAMS['to']}",
                      FORECAST_TARGET, lambda person=person: selectors.forecast(user=person, params=FORECAST_PARAMS),
                      _forecast_raw(person), lambda forecast: _nonempty(forecast.by_month))

    # 4. The order list, newest first, page 1.
    for person, label in people:
        visible = Order.objects.visible_to(person).count()
        bench.measure(f"order_list_{person.username}",
                      f"selectors.order_list, page 1 of 50, newest first: {label} ({visible:,} visible)",
                      LIST_TARGET,
                      lambda person=person: keyset_page(selectors.order_list(user=person, params={}),
                                                        ordering=NEWEST_FIRST, cursor=None, limit=PAGE_SIZE).items,
                      _order_list_raw(person), _nonempty)

    # 5. An account page's orders panel: Megacorp and a typical customer; the day of Megacorp's last order.
    by_count = list(Order.objects.alive().exclude(account=big).values("account_id").annotate(n=Count("id"))
                    .order_by("n", "account_id").values_list("account_id", flat=True))
    panels = [("big", big)]
    if by_count:
        panels.append(("typical", Account.objects.get(pk=by_count[len(by_count) // 2])))
    for label, account in panels:
        orders = Order.objects.alive().filter(account=account).count()
        bench.measure(f"account_orders_{label}",
                      f"selectors.account_orders: {label} account ({orders:,} orders), newest {selectors.PANEL_ROWS}",
                      PANEL_TARGET, lambda account=account: selectors.account_orders(user=user, account=account),
                      _account_orders_raw(user, account), _nonempty)
    bench.measure("last_order_on_big", "selectors.last_order_on: big account (its latest order not cancelled)",
                  PANEL_TARGET, lambda: selectors.last_order_on(account=big), _last_order_raw(big),
                  lambda day: None if day else _fail("no order found"))

    # 6. Writes: an order with two lines, an opportunity with a contact; deleted again afterwards.
    candidates = (Contact.objects.exclude(account=big).filter(account__visibility="everyone")
                  .select_related("account").order_by("id"))
    write_targets = [(c.account, c) for c in candidates[3000:3500]] or [(c.account, c) for c in candidates[:500]]
    targets = iter(write_targets * 1000)
    made_orders: list[int] = []
    lines = [{"product": "Team licence", "quantity": "2", "unit_price": "1890.00"},
             {"product": "Installation", "quantity": "1", "unit_price": "600.00"}]

    def create_order() -> Order:
        account, _contact = next(targets)
        order = services.order_create(actor=user, data={"account": account, "ordered_on": SEED_NOW.date(),
                                                        "status": "open"}, lines=lines)
        made_orders.append(order.pk)
        return order

    try:
        bench.measure("create_order", "services.order_create: an order with two lines (number, lines, history)",
                      CREATE_TARGET, create_order, _create_order_raw(user, targets, made_orders),
                      lambda order: None if order.amount == Decimal("4380.00") else _fail(f"amount {order.amount}"))
    finally:
        _clean_up(Order, made_orders)

    made_opportunities: list[int] = []

    def create_opportunity() -> Opportunity:
        account, contact = next(targets)
        opportunity = services.opportunity_create(actor=user, data={
            "name": "Expansion (bench)", "account": account, "amount": "25000.00", "source": "Website",
            "expected_close_on": SEED_NOW.date() + dt.timedelta(days=90)}, contacts=[(contact, "Decision maker")])
        made_opportunities.append(opportunity.pk)
        return opportunity

    try:
        bench.measure("create_opportunity",
                      "services.opportunity_create: in the first stage, with a contact (stage change, history)",
                      CREATE_TARGET, create_opportunity,
                      _create_opportunity_raw(user, targets, services.first_stage(pipeline), made_opportunities),
                      lambda opportunity: None if opportunity.is_open else _fail("not open"))
    finally:
        _clean_up(Opportunity, made_opportunities)

    # 7. The pages, once they exist.
    run_sales_pages(bench)


def sales_page_urls() -> dict[str, str]:
    """The sales pages of this build (they are being written): name -> URL, for those that resolve."""
    urls = {}
    for name, query in (("opportunity_list", "?ordering=expected_close_on"), ("opportunity_board", ""),
                        ("opportunity_forecast", f"?from={FORECAST_PARAMS['from']}&to={FORECAST_PARAMS['to']}"),
                        ("order_list", "")):
        try:
            urls[name] = reverse(name) + query
        except NoReverseMatch:
            continue
    return urls


def run_sales_pages(bench: Bench) -> None:
    """The pages through the test client; a page that does not answer 200 yet is left out, with a note."""
    for name, url in sales_page_urls().items():
        status = bench.client.get(url).status_code
        if status != 200:
            print(f"  (sales page {url} answered {status}; not measured)", flush=True)
            continue
        bench.measure(f"{name}_page", f"Page: {url}", LIST_TARGET if "list" in name else BOARD_TARGET,
                      lambda url=url: bench.client.get(url), None, _ok)


def _nonempty(result: Any) -> None:
    if not result:
        raise AssertionError("the workload found nothing: is the data set seeded with its sales records?")


def _fail(message: str) -> None:
    raise AssertionError(message)
