"""The export workloads (issue 9): a list exported whole, as the user's download reads it.

In the benchmark run (`run_export_all`, registered in bench/run.py): the seeded contacts the bench user may
see, exported through the page to CSV, XLSX and vCard (the whole download read), and through the API to CSV.
Where those are more than one export may hold (100,000), the user's own contacts instead (medium), or those of
them in one region (large).
Each result also carries the rows, the rows per second, the time 100,000 rows would take at that rate, and
the peak Python memory of one export (tracemalloc): the targets are CSV ≤ 2 s and XLSX ≤ 10 s for 100,000
rows, in constant memory.

On its own, it measures exactly 100,000 rows, in a database of its own:

    PYTHONPATH=. .venv/bin/python -m bench.export_workloads --rows 100000 --db sqlite
    PYTHONPATH=. .venv/bin/python -m bench.export_workloads --rows 100000 --db postgresql

which makes a temporary SQLite file (or the PostgreSQL database rapport_bench_export, dropped and made
again), migrates it, inserts the contacts, and prints the times and memory of exports of 10,000 and 100,000
rows as JSON: memory that does not grow with the rows is the proof of streaming. `--reuse FOLDER` measures
an earlier run's database again.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_ROWS = 100_000
CSV_TARGET = "100,000 rows ≤ 2 s, constant memory"
XLSX_TARGET = "100,000 rows ≤ 10 s, constant memory"


def _read(response: Any) -> int:
    """Read the whole download as a client would, keeping none of it: its size in bytes."""
    if response.status_code != 200:
        raise AssertionError(f"{response.status_code}: {response.content[:300]!r}")
    if not response.streaming:
        return len(response.content)
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
    return size


def _peak_memory(fn: Callable[[], Any]) -> float:
    """The peak of Python allocations during one call, in MB (tracemalloc: slower, so timed apart)."""
    tracemalloc.start()
    try:
        fn()
        return round(tracemalloc.get_traced_memory()[1] / 1_000_000, 1)
    finally:
        tracemalloc.stop()


def run_export_all(runs: int, size: str) -> list[Any]:
    """The export workloads on their own Bench, for bench.run (at most 5 samples each: each reads every row)."""
    from bench.workloads import Bench

    bench = Bench(min(runs, 5))
    run_export(bench)
    return bench.results


def run_export(bench: Any) -> None:
    from rapport.core.services import token_create
    from rapport.directory.models import Contact
    from rapport.exports.selectors import max_rows

    visible = Contact.objects.visible_to(bench.user)
    # Above the export limit the whole list is refused (422, as a user is told to narrow it): on the medium data
    # set the bench exports the user's own contacts, as "My contacts" would; on large, those in one region.
    choices = [
        ("", "the bench user sees", visible),
        ("&owner=me", "the bench user owns", visible.filter(owner=bench.user)),
        ("&owner=me&attr=region:north", "the bench user owns in region north",
         visible.filter(owner=bench.user, attributes__key="region", attributes__value="north")),
    ]
    fitting = next(((query, whose, n) for query, whose, qs in choices if (n := qs.count()) <= max_rows()), None)
    if fitting is None:
        raise AssertionError(f"no narrowing of the contact list fits one export ({max_rows():,} rows)")
    narrowed, whose, rows = fitting
    token = token_create(user=bench.user, name="bench export").plaintext
    api_headers = {"Authorization": f"Bearer {token}"}
    workloads = [
        ("export_contacts_csv", f"/exports/contacts/?format=csv{narrowed}", {}, "csv", CSV_TARGET),
        ("export_contacts_xlsx", f"/exports/contacts/?format=xlsx{narrowed}", {}, "xlsx", XLSX_TARGET),
        ("export_contacts_vcf", f"/exports/contacts/?format=vcf{narrowed}", {}, "vCard", "as CSV"),
        ("export_contacts_api_csv", f"/api/v1/contacts/export?format=csv&ordering=-updated_at{narrowed}",
         api_headers, "csv", CSV_TARGET),
    ]
    try:
        for name, url, headers, what, target in workloads:
            def request(url: str = url, headers: dict[str, str] = headers) -> int:
                return _read(bench.client.get(url, headers=headers))

            result = bench.measure(name, f"Export of the {rows:,} contacts {whose} to {what}, the "
                                         f"whole download read ({url.split('?')[0]})", target, request)
            _annotate(result, rows, _peak_memory(request))
    finally:  # a reused data set keeps its shape
        from rapport.core.models import ApiToken

        ApiToken.objects.filter(user=bench.user, name="bench export").delete()


def _annotate(result: Any, rows: int, peak_mb: float) -> None:
    """Rows, rate, the time 100,000 rows would take at that rate, and peak memory, in the result's JSON."""
    seconds = result.p50_ms / 1000
    result.rows = rows
    result.rows_per_second = round(rows / seconds) if seconds else None
    result.extrapolated_100k_s = round(seconds * TARGET_ROWS / rows, 2) if rows else None
    result.peak_python_memory_mb = peak_mb
    print(f"  {result.name:<28} {rows:>7,} rows in {seconds:.2f} s = {result.rows_per_second:,} rows/s "
          f"(100,000 rows: {result.extrapolated_100k_s} s), peak {peak_mb} MB", flush=True)


# --- On its own: 100,000 rows in a database of its own -------------------------------------------------


def _database_url(db: str, folder: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{folder / 'export.sqlite3'}"
    import psycopg

    server = os.environ.get("RAPPORT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute('DROP DATABASE IF EXISTS "rapport_bench_export"')
        conn.execute('CREATE DATABASE "rapport_bench_export"')
    return f"{server}/rapport_bench_export"


def _populate(rows: int) -> Any:
    """rows contacts (each a tenth with a formula-like phone), at 1,000 accounts, with an address each."""
    from rapport.core.models import Role, User
    from rapport.directory.models import Account, Address, Contact

    user = User.objects.create_user(username="exporter", password="x", first_name="Ex", last_name="Porter")
    user.roles.set(Role.objects.filter(slug="sales"))
    accounts = []
    for i in range(1_000):
        account = Account(name=f"Company {i:04d} AS", owner=user, visibility="everyone", industry="Logistics")
        account.derive()
        accounts.append(account)
    accounts = Account.objects.bulk_create(accounts, batch_size=1_000)
    batch: list[Contact] = []
    firsts = ["Anna", "Bernd", "Clara", "Dag", "Åsa", "Øystein", "Zoë", "Jürgen", "Ingrid", "Ola"]
    lasts = ["Berg", "Claus", "Dorn", "Nilsen", "Ünal", "Hansen", "Møller", "Lund", "Strand", "Vik"]
    for i in range(rows):
        contact = Contact(first_name=firsts[i % 10], last_name=f"{lasts[(i // 10) % 10]} {i:06d}",
                          title="Head of purchasing", email=f"person{i}@example.com",
                          phone=f"+47 {i % 100:02d} {i:06d}" if i % 10 == 0 else f"22 {i:06d}", mobile="",
                          remarks="region=north" if i % 3 == 0 else "", account=accounts[i % len(accounts)],
                          owner=user, visibility="everyone")
        contact.derive()
        batch.append(contact)
        if len(batch) == 5_000:
            _insert(batch, Contact, Address)
            batch = []
    if batch:
        _insert(batch, Contact, Address)
    return user


def _insert(batch: list[Any], contact_model: Any, address_model: Any) -> None:
    made = contact_model.objects.bulk_create(batch, batch_size=5_000)
    address_model.objects.bulk_create([address_model(contact=c, street="Storgata 1", postal_code="0155", city="Oslo",
                                                      country="Norway") for c in made], batch_size=5_000)


def standalone(rows: int, db: str, runs: int, reuse: str | None = None) -> dict[str, Any]:
    folder = Path(reuse) if reuse else Path(tempfile.mkdtemp(prefix="rapport-export-bench-"))
    if reuse and db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'export.sqlite3'}"
    elif reuse:
        os.environ["DATABASE_URL"] = os.environ.get("RAPPORT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432") \
            + "/rapport_bench_export"
    else:
        os.environ["DATABASE_URL"] = _database_url(db, folder)
    os.environ["RAPPORT_VAR_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    call_command("migrate", interactive=False, verbosity=0)
    from rapport.core.models import User

    user = User.objects.filter(username="exporter").first()
    if user is None:
        started = time.perf_counter()
        user = _populate(rows)
        print(f"{rows:,} contacts inserted in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"in {folder} ({os.environ['DATABASE_URL'].split('@')[-1]}); --reuse it to measure again", flush=True)
    from django.db import connection

    with connection.cursor() as cursor:  # the planner's statistics, as autovacuum (or the seeder) keeps them
        cursor.execute("ANALYZE")
    client = Client()
    client.force_login(user)
    small = f"&q={'Berg'}"  # a tenth of the rows: the same export, ten times fewer rows
    report: dict[str, Any] = {"database": db, "rows": rows, "exports": []}
    for fmt in ("csv", "xlsx"):
        for label, query in (("a tenth", small), ("all", "")):
            url = f"/exports/contacts/?format={fmt}{query}"
            response = client.get(url)
            count = int(response["X-Export-Rows"])
            _read(response)
            samples = []
            cpu = []
            size = 0
            for _ in range(runs):
                began, began_cpu = time.perf_counter(), time.process_time()
                size = _read(client.get(url))
                samples.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
            peak = _peak_memory(lambda url=url: _read(client.get(url)))
            best = min(samples)
            # CPU seconds of this process (SQLite's work included; PostgreSQL's server is another process):
            # what the export costs on a machine that other work shares, where wall time waits for a core.
            entry = {"format": fmt, "rows": count, "seconds_best": round(best, 2),
                     "seconds_median": round(sorted(samples)[len(samples) // 2], 2),
                     "cpu_seconds_best": round(min(cpu), 2), "rows_per_second": round(count / best),
                     "file_mb": round(size / 1_000_000, 1), "peak_python_memory_mb": peak, "of": label,
                     "load_average": round(os.getloadavg()[0], 1)}
            report["exports"].append(entry)
            print(json.dumps(entry), flush=True)
    report["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description="Export 100,000 rows in a database of its own")
    parser.add_argument("--rows", type=int, default=TARGET_ROWS)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", help="the folder (SQLite) of an earlier run, or any value for PostgreSQL's "
                                        "rapport_bench_export: measure its rows again without inserting them")
    args = parser.parse_args()
    report = standalone(args.rows, args.db, args.runs, args.reuse)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
