"""The calendar sync workloads (issue 11): one user's calendar of 10,000 events, as a CalDAV client reads it.

Through /dav/ (Radicale with Rapport's storage, signed in with an app password, in process):
- the ETag listing a client makes to see what changed (PROPFIND depth 1, getetag): target about 1-2 s;
- a delta sync after one event changed in Rapport (REPORT sync-collection with the last token): ≤ 0.5 s;
- the same with nothing changed, and a calendar-multiget of 100 events (drawing their iCalendar).

The user "bench-dav" and their events are added to the data set once (and reused).

In the benchmark run: `run_sync_all`, registered in bench/run.py. On its own, in a database of its own:

    PYTHONPATH=. .venv/bin/python -m bench.sync_workloads --db sqlite
    PYTHONPATH=. .venv/bin/python -m bench.sync_workloads --db postgresql
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # bench.workloads needs Django set up: main() does that first
    from bench.workloads import Bench, Result

EVENTS = 10_000
USERNAME = "bench-dav"
LISTING_TARGET = "about 1-2 s for 10,000 events"
DELTA_TARGET = "≤ 500 ms"
PROPFIND = ('<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:resourcetype/></d:prop>'
            "</d:propfind>")


def _sync_body(token: str) -> str:
    return ('<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>' + token
            + "</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>")


def _populate() -> tuple[Any, str]:
    """The bench user with EVENTS events over two years (a tenth weekly series), and an app password."""
    from django.utils import timezone

    from rapport.activities.models import Activity, ActivityAssignee, ActivityKind
    from rapport.core.models import Role, User
    from rapport.sync.services import app_password_create

    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        user = User.objects.create_user(username=USERNAME, password="x", first_name="Dav", last_name="Bench",
                                        time_zone="Europe/Berlin")
        user.roles.set(Role.objects.filter(slug="sales"))
        kind = ActivityKind.objects.get(key="meeting")
        start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=365)
        for chunk in range(0, EVENTS, 2_000):
            made = []
            for i in range(chunk, min(chunk + 2_000, EVENTS)):
                begins = start + dt.timedelta(hours=(i * 7) % (24 * 730))
                made.append(Activity(owner=user, kind=kind, activity_type="event", subject=f"Meeting {i:05d}",
                                     location="Room 4", starts_at=begins, ends_at=begins + dt.timedelta(hours=1),
                                     time_zone="Europe/Berlin", rrule="FREQ=WEEKLY;COUNT=10" if i % 10 == 0 else "",
                                     recurrence_ends_at=begins + dt.timedelta(weeks=9, hours=1) if i % 10 == 0
                                     else None, visibility="team"))
            made = Activity.objects.bulk_create(made, batch_size=2_000)
            ActivityAssignee.objects.bulk_create([
                ActivityAssignee(activity=a, user=user, starts_at=a.starts_at,
                                 last_ends_at=a.recurrence_ends_at or a.ends_at, is_long=bool(a.rrule))
                for a in made], batch_size=2_000)
    return user, app_password_create(user=user, device="bench").plaintext


def run_sync_all(runs: int, size: str) -> list[Result]:
    """The sync workloads on their own Bench, for bench.run (at most 20 runs: a listing takes a second)."""
    from bench.workloads import Bench

    bench = Bench(min(runs, 20))
    run_sync(bench)
    return bench.results


def run_sync(bench: Bench) -> None:
    from django.db import connection
    from django.test import Client

    from rapport.activities.models import Activity

    user, password = _populate()
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{USERNAME}:{password}".encode()).decode()}
    client = Client()
    calendar = f"/dav/{USERNAME}/calendar/"

    def listing() -> Any:
        return client.generic("PROPFIND", calendar, PROPFIND, content_type="application/xml", HTTP_DEPTH="1", **auth)

    def listed_all(response: Any) -> None:
        if response.status_code != 207 or response.content.count(b"<getetag>") < EVENTS:
            raise AssertionError(f"{response.status_code}: the listing does not hold {EVENTS} events")

    state = {"token": ""}

    def sync() -> Any:
        response = client.generic("REPORT", calendar, _sync_body(state["token"]), content_type="application/xml",
                                  HTTP_DEPTH="1", **auth)
        token = response.content.rsplit(b"<sync-token>", 1)[-1].split(b"</sync-token>", 1)[0].decode()
        state["token"] = token
        return response

    sync()  # the initial sync: every event, and the token the deltas start from
    changing = list(Activity.objects.filter(owner=user).order_by("pk").values_list("pk", flat=True)[:1000])
    turn = {"i": 0}

    def delta() -> Any:
        # One event changed in Rapport since the client's last sync (a version bump, as every save makes).
        pk = changing[turn["i"] % len(changing)]
        turn["i"] += 1
        Activity.objects.filter(pk=pk).update(version=Activity.objects.get(pk=pk).version + 1)
        return sync()

    def one_change(response: Any) -> None:
        if response.status_code != 207 or response.content.count(b"<response>") != 1:
            raise AssertionError(f"{response.status_code}: a delta of one change answered {response.content[:300]!r}")

    hrefs = sorted(listing().content.decode().split("<href>")[2:102])
    multiget = ('<?xml version="1.0"?><c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
                "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
                + "".join(f"<d:href>{href.split('</href>')[0]}</d:href>" for href in hrefs)
                + "</c:calendar-multiget>")

    def fetch() -> Any:
        return client.generic("REPORT", calendar, multiget, content_type="application/xml", HTTP_DEPTH="1", **auth)

    def raw_listing() -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SELECT a.id, a.uid, a.dav_name, a.version, a.updated_at FROM activities_activity a "
                           "JOIN activities_activityassignee s ON s.activity_id = a.id "
                           "WHERE s.user_id = %s AND a.activity_type = 'event' AND a.deleted_at IS NULL",
                           [user.pk])
            return cursor.fetchall()

    bench.measure("dav_etag_listing", f"PROPFIND depth 1 (getetag) of a calendar of {EVENTS:,} events",
                  LISTING_TARGET, listing, raw_listing, listed_all)
    bench.measure("dav_sync_delta", "REPORT sync-collection after one event changed in Rapport",
                  DELTA_TARGET, delta, None, one_change)
    bench.measure("dav_sync_unchanged", "REPORT sync-collection with nothing changed", DELTA_TARGET, sync)
    bench.measure("dav_multiget_100", "REPORT calendar-multiget of 100 events with their iCalendar text",
                  "—", fetch)


def main() -> int:
    parser = argparse.ArgumentParser(description="The sync workloads in a database of their own")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rapport-sync-bench-"))
    if args.db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'sync.sqlite3'}"
    else:
        import psycopg

        server = os.environ.get("RAPPORT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
        with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute('DROP DATABASE IF EXISTS "rapport_bench_sync"')
            conn.execute('CREATE DATABASE "rapport_bench_sync"')
        os.environ["DATABASE_URL"] = f"{server}/rapport_bench_sync"
    os.environ["RAPPORT_VAR_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    call_command("migrate", interactive=False, verbosity=0)
    from rapport.core.models import User
    from rapport.seed import HEAVY_USER

    User.objects.get_or_create(username=HEAVY_USER)  # the user every Bench signs in as
    _populate()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    results = run_sync_all(args.runs, "standalone")
    print(json.dumps({"database": args.db, "events": EVENTS, "load_average": round(os.getloadavg()[0], 1),
                      "workloads": [r.as_dict() for r in results]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
