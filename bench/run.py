"""One benchmark run against one database: seed (or reuse), measure in process, then over HTTP.

Run by `python -m bench`, one child process per database, because Django's
settings (DATABASE_URL) are fixed once per process.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
import urllib.parse
from typing import Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _machine() -> dict[str, Any]:
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            memory = handle.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    cpu = ""
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory": memory, "python": platform.python_version(),
            "platform": platform.platform()}


def http_mixed(size: str, seconds: float, threads: int) -> dict[str, Any]:
    """Serve with `rapport serve --workers 2` and drive a mixed load over HTTP."""
    from bench.loadgen import run_load, session_cookie
    from bench.sales_workloads import sales_page_urls
    from bench.support_workloads import support_page_urls
    from rapport.core.models import User
    from rapport.core.services import token_create
    from rapport.directory.models import Account, Contact
    from rapport.seed import HEAVY_USER, SEED_PASSWORD

    user = User.objects.get(username=HEAVY_USER)
    token = token_create(user=user, name="bench").plaintext
    account_ids = list(Account.objects.filter(visibility="everyone").order_by("id")
                       .values_list("public_id", flat=True)[:2000])
    contact_ids = list(Contact.objects.filter(visibility="everyone").order_by("id")
                       .values_list("public_id", flat=True)[:2000])
    port = _free_port()
    env = dict(os.environ)
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "rapport.cli", "serve", "--port", str(port), "--workers", "2", "--threads", "4"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        cookie = session_cookie(port, HEAVY_USER, SEED_PASSWORD)
        page_headers = {"Cookie": cookie}
        api_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        prefixes = ["an", "be", "mü", "sch", "ta", "ga", "pe", "ol", "ja", "ro"]
        counter = iter(range(10**9))
        nonce = f"{time.time_ns():x}"  # a reused data set holds the contacts of earlier runs

        routes = _activity_routes()
        sales_urls = list(sales_page_urls().values())
        support_urls = [url for name, url in support_page_urls().items() if name == "support_list"]
        calendar_urls = [f"{routes['calendar']}?view=month&date={day}" for day in ("2026-11-01", "2026-10-01")] \
            if "calendar" in routes else []
        home_url = routes.get("my_home")
        dashboard_url = routes.get("report_dashboard")
        writes_activities = "activities_api" in routes

        def pick(rng: random.Random) -> tuple[str, str, bytes | None, dict[str, str]]:
            roll = rng.random()
            if roll < 0.10 and sales_urls + support_urls:  # half of the contact lists' share, while they exist
                return "GET", rng.choice(sales_urls + support_urls), None, page_headers
            if roll < 0.20 or (roll < 0.40 and not (calendar_urls and home_url)):
                query = rng.choice(["", "?owner=me", "?attr=region:north", "?ordering=-updated_at"])
                return "GET", f"/contacts/{query}", None, page_headers
            if roll < 0.30:
                return "GET", rng.choice(calendar_urls), None, page_headers
            if roll < 0.40:
                return "GET", str(home_url), None, page_headers
            if roll < 0.50:
                return "GET", f"/accounts/{rng.choice(account_ids)}/", None, page_headers
            if roll < 0.60:
                return "GET", f"/contacts/{rng.choice(contact_ids)}/", None, page_headers
            if roll < 0.80:
                prefix = rng.choice(prefixes)
                return "GET", f"/contacts/?q={urllib.parse.quote(prefix)}", None, {**page_headers, "HX-Request": "true",
                                                                "HX-Target": "results"}
            if roll < 0.88 or (roll < 0.95 and not writes_activities):
                n = next(counter)
                body = json.dumps({"last_name": f"Loadtest {n}", "email": f"load{n}.{nonce}@load.example"})
                return "POST", "/api/v1/contacts", body.encode(), api_headers
            if roll < 0.95:
                n = next(counter)
                start = f"2027-02-{1 + n % 28:02d}T{8 + n % 9:02d}:{15 * (n % 4):02d}:00+01:00"
                body = json.dumps({"type": "event", "kind": "call", "subject": f"Load call {n}", "starts_at": start,
                                   "regarding": [f"account:{rng.choice(account_ids)}"]})
                return "POST", "/api/v1/activities", body.encode(), api_headers
            if dashboard_url:
                return "GET", dashboard_url, None, page_headers
            return "GET", "/api/v1/accounts?limit=50&ordering=-updated_at", None, api_headers

        result = run_load(port, pick, threads=threads, seconds=seconds)
        last = "5% the manager dashboard" if dashboard_url else "5% API account list (no dashboard yet)"
        result["mix"] = ("20% contact list pages, 10% calendar month pages, 10% My Home, 20% account and contact "
                         "pages, 20% search as you type, 8% API contact creates, 7% API activity creates, "
                         f"{last}") if calendar_urls and home_url and writes_activities \
            else ("30% contact list pages, 30% account and contact pages, 20% search as you type, "
                  f"15% API creates, {last}")
        if sales_urls + support_urls:  # the sales and support pages took 10 points of the contact lists' share
            share = int(result["mix"].split("%", 1)[0])
            kinds = " and ".join(k for k, urls in (("sales", sales_urls), ("support", support_urls)) if urls)
            result["mix"] = result["mix"].replace(
                f"{share}% contact list pages",
                f"{share - 10}% contact list pages, 10% {kinds} pages ({', '.join(sales_urls + support_urls)})", 1)
        result["load_generator"] = f"bench.loadgen (Python http.client, {threads} threads, same machine)"
        result["server"] = "rapport serve: gunicorn, 2 workers x 4 threads"
        return result
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def _activity_routes() -> dict[str, str]:
    """The activity pages and endpoints the load can use: those that exist in this build."""
    from django.urls import NoReverseMatch, reverse

    routes = {}
    for name in ("calendar", "my_home", "report_dashboard"):
        with contextlib.suppress(NoReverseMatch):
            routes[name] = reverse(name)
    try:
        from rapport.activities import api  # noqa: F401

        routes["activities_api"] = "/api/v1/activities"
    except ImportError:
        pass
    return routes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="small")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--http-seconds", type=float, default=20)
    parser.add_argument("--http-threads", type=int, default=8)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.automation_workloads import run_automation_all
    from bench.campaign_workloads import run_campaign_all
    from bench.export_workloads import run_export_all
    from bench.import_workloads import run_import_all
    from bench.mail_workloads import run_mail_all
    from bench.report_workloads import run_reports_all
    from bench.sales_workloads import run_sales_all
    from bench.search_workloads import run_search_all
    from bench.support_workloads import run_support_all
    from bench.sync_workloads import USERNAME as SYNC_USERNAME
    from bench.sync_workloads import run_sync_all
    from bench.workloads import Writes, run_all
    from rapport.core.tasks import analyze_sqlite
    from rapport.seed import (
        activities_seeded,
        sales_seeded,
        seed,
        seed_activities,
        seed_exists,
        seed_sales,
        seed_support,
        support_seeded,
    )

    # The web process's own set-up (its garbage-collector settings): in-process figures stand for the server's.
    importlib.import_module("rapport.wsgi")
    call_command("migrate", interactive=False, verbosity=0)
    seeded: dict[str, Any] = {"reused": True}
    if not seed_exists(args.size):
        seeded = seed(args.size, progress=True)
    else:
        if not activities_seeded(args.size):  # a data set seeded before activities joined it
            seeded.update(seed_activities(args.size, progress=True))
        if not sales_seeded(args.size):  # ... or before its sales records did
            seeded.update(seed_sales(args.size, progress=True))
    if not support_seeded(args.size):  # the support items: a step of their own, after the rest
        seeded.update(seed_support(args.size, progress=True))
    if connection.vendor == "sqlite":
        # The statistics as the periodic job leaves them: a data set seeded by an earlier version may hold
        # sampled ones, with which SQLite sorted every order a user may see to show 50 (docs/performance.md).
        analyze_sqlite(connection)
    writes = Writes(keep_owners=(SYNC_USERNAME,))
    try:
        results = run_all(args.runs, args.size)
        results += run_sales_all(args.runs, args.size)
        results += run_support_all(args.runs, args.size)
        results += run_automation_all(args.runs, args.size)
        results += run_mail_all(args.runs, args.size)
        results += run_campaign_all(args.runs, args.size)
        results += run_reports_all(args.runs, args.size)
        results += run_search_all(args.runs, args.size)
        results += run_export_all(args.runs, args.size)
        results += run_import_all(args.runs, args.size)
        results += run_sync_all(args.runs, args.size)
        for r in results:
            raw = f"raw {r.raw_p50_ms} ms, x{r.ratio_to_raw}" if r.raw_p50_ms else "no raw"
            print(f"  {r.name:<28} p50 {r.p50_ms:>7} ms  p99 {r.p99_ms:>7} ms  {r.queries:>2} queries  {raw}",
                  flush=True)
        http = None
        if not args.no_http:
            connection.close()
            http = http_mixed(args.size, args.http_seconds, args.http_threads)
            print(f"  HTTP mixed: {http['requests_per_second']} req/s, p50 {http['p50_ms']} ms, "
                  f"p99 {http['p99_ms']} ms, errors {http['errors']}", flush=True)
    finally:  # also after a failed run: the next one must not find its writes among the newest rows
        try:
            print(f"  Deleted the run's {writes.delete():,} new activities, contacts and accounts", flush=True)
        except Exception as exc:  # the figures measured matter more than the clean-up
            print(f"  The clean-up of the run's writes failed: {exc!r}", flush=True)
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "database": connection.vendor,
        "database_version": _db_version(connection),
        "size": args.size,
        "seed": seeded,
        "machine": _machine(),
        "runs": args.runs,
        "workloads": [r.as_dict() for r in results],
        "http_mixed": http,
    }
    with open(args.output, "w") as handle:
        json.dump(report, handle, indent=2, ensure_ascii=False)
    return 0


def _db_version(connection: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        return str(cursor.fetchone()[0])


if __name__ == "__main__":
    sys.exit(main())
