"""The import workload (issue 4's target: a CSV of 100,000 contacts in at most 20 s, 5,000 rows a second,
with duplicates found by email): a deterministic CSV of N contacts at N/20 companies, imported through the
import service as the worker runs it (upload, mapping, the run in one transaction: duplicates looked up,
accounts linked or made, contacts, their history, addresses and attributes written, the search index told).

Then the same file again with "update": every row matches, nothing changes (the idempotence check), and the
rows per second of that pass too.

Everything is rolled back afterwards, so a reused data set keeps its shape.

    python -m bench.import_workloads --rows 100000                       # SQLite under var/ (or DATABASE_URL)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/rapport_bench_small python -m bench.import_workloads

bench.run calls `run_import_all(runs, size)`: 10,000 rows for the small size, 100,000 otherwise.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import time
from typing import Any

TARGET = "≥ 5,000 rows/s (100,000 contacts ≤ 20 s), duplicates found by email"
FIRST = ("Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Karin", "Lars", "Maja",
         "Nils", "Olga", "Pierre", "Quinn", "Rosa", "Sven", "Tove", "Ulla", "Victor", "Wiebke", "Yusuf", "Zoë")
LAST = ("Andersen", "Berg", "Carlsson", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova", "Jensen",
        "Kowalski", "Larsen", "Müller", "Nielsen", "Olsen", "Petersen", "Quist", "Rossi", "Schmidt", "Thomsen")
CITIES = ("Oslo", "Bergen", "Hamburg", "Lyon", "Aarhus", "Malmö", "Graz", "Turku", "Gent", "Porto")
TITLES = ("Buyer", "CEO", "Engineer", "Head of Sales", "Office Manager", "Purchasing Manager", "CTO", "")


def contacts_csv(rows: int, seed: int = 4) -> bytes:
    """A CSV of `rows` contacts, the same for the same arguments: Outlook's headers, unique emails, a company
    for every twenty people, and a remark with an attribute on every tenth."""
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("First Name,Last Name,E-mail Address,Company,Job Title,Business Phone,Business City,Notes\r\n")
    companies = max(1, rows // 20)
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = f"Bench Company {rng.randrange(companies):05d}"
        email = f"{first.lower()}.{last.lower()}.{i}@bench-import.test".replace("é", "e").replace("ü", "u") \
            .replace("ë", "e").replace("í", "i")
        notes = f"Imported lead. region={rng.choice(CITIES).lower()}" if i % 10 == 0 else ""
        out.write(f"{first},{last},{email},{company},{rng.choice(TITLES)},+47 {rng.randrange(10**7, 10**8)},"
                  f"{rng.choice(CITIES)},{notes}\r\n")
    return out.getvalue().encode("utf-8")


def import_once(user: Any, data: bytes, *, duplicates: str = "skip") -> dict[str, Any]:
    """Import the file as the worker does; the job's counts and the time the run took."""
    from rapport.imports import services
    from rapport.imports.models import ImportJob

    job = services.import_upload(actor=user, file_name="bench.csv", data=data, record_type="contact")
    services.import_configure(actor=user, job=job, mapping=job.mapping, duplicates=duplicates)
    services.import_start(actor=user, job=job)
    started, cpu_started = time.perf_counter(), time.process_time()
    services.import_execute(job.pk)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    job = ImportJob.objects.get(pk=job.pk)
    if job.status != "done":
        raise AssertionError(f"the bench import ended {job.status}: {job.message}")
    return {"rows": job.processed_rows, "seconds": round(seconds, 2),
            "rows_per_second": round(job.processed_rows / seconds) if seconds else None,
            # The CPU time of this process (SQLite runs in it; PostgreSQL's own work is not counted): on a
            # machine shared with other work, the wall clock says more about the neighbours than the import.
            "cpu_seconds": round(cpu, 2),
            "created": job.created_count, "updated": job.updated_count, "unchanged": job.unchanged_count,
            "skipped": job.skipped_count, "accounts_created": job.accounts_created}


def measure(user: Any, rows: int) -> dict[str, Any]:
    """Import `rows` contacts, then the same file with "update"; all rolled back at the end."""
    from django.db import transaction

    data = contacts_csv(rows)
    with transaction.atomic():
        first = import_once(user, data)
        again = import_once(user, data, duplicates="update")
        transaction.set_rollback(True)
    from bench.workloads import vacuum

    vacuum("directory_contact", "directory_account", "directory_address", "directory_attribute", "core_historyentry",
           "search_entry", "search_word")
    return {"import": first, "update_unchanged": again}


def run_import_all(runs: int, size: str) -> list[Any]:
    """For bench.run: the import of 10,000 (small) or 100,000 contacts as the benchmark user."""
    from bench.workloads import Result
    from rapport.core.models import User
    from rapport.seed import HEAVY_USER

    rows = 10_000 if size == "small" else 100_000
    user = User.objects.get(username=HEAVY_USER)
    found = measure(user, rows)
    results = []
    for name, key, what in (("import_contacts_csv", "import", "new contacts, companies linked or made"),
                            ("import_contacts_again", "update_unchanged", "the same file with update: unchanged")):
        run = found[key]
        ms = round(run["seconds"] * 1000, 1)
        results.append(Result(name=name, description=f"CSV import of {run['rows']:,} contacts ({what}): "
                                                     f"{run['rows_per_second']:,} rows/s",
                              runs=1, p50_ms=ms, p95_ms=ms, p99_ms=ms, queries=0, target=TARGET))
    return results


def _bench_user() -> Any:
    from rapport.core.models import Role, User

    user, created = User.objects.get_or_create(username="import-bench", defaults={"first_name": "Import",
                                                                                  "last_name": "Bench"})
    if created:
        user.roles.set(Role.objects.filter(slug="sales"))
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    found = measure(_bench_user(), args.rows)
    print(f"{connection.vendor}: {args.rows:,} contacts")
    for key, run in found.items():
        print(f"  {key:<18} {run['seconds']:>7} s  {run['rows_per_second']:>7,} rows/s  (CPU {run['cpu_seconds']} s)  "
              f"created {run['created']:,}, updated {run['updated']:,}, unchanged {run['unchanged']:,}, "
              f"skipped {run['skipped']:,}, accounts made {run['accounts_created']:,}")


if __name__ == "__main__":
    main()
