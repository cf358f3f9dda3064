"""`rapport seed --size small|medium|large`: a deterministic CRM-scale data set for the benchmark.

medium ("CRM-M"): 200 users in 10 teams, 100,000 accounts, 1,000,000 contacts
(about 10 per account, skewed: one account has 5,000 contacts and one user owns
50,000 records), remarks with attributes, names with accents and non-Latin
scripts; 5,000,000 activities over 24 months (a fifth in the future), 500,000
of them tasks, a quarter linked to accounts and contacts, weekly recurrences
with moved and skipped occurrences; 200,000 notes; and the sales records of
issue 7: 1,000,000 orders (a fifth with lines), 50,000 opportunities across the
default pipeline with their stage history and people, 20,000 leads, and the
relationship-stage history of the accounts. small is a hundredth of that,
large ten times medium.

Rows go in through bulk paths — COPY on PostgreSQL, large executemany
transactions on SQLite — never one ORM save per row. The same seed always
yields the same data set.
"""

from __future__ import annotations

import array
import bisect
import contextlib
import datetime as dt
import itertools
import math
import random
import sys
import time
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from rapport.core.models import Role, Team, User
from rapport.core.text import fold, website_domain
from rapport.directory.models import Account, Attribute, Contact
from rapport.directory.remarks import parse_attributes


@dataclass(frozen=True)
class Size:
    name: str
    users: int
    teams: int
    accounts: int
    contacts: int
    big_account_contacts: int
    heavy_owner_records: int
    activities: int  # tasks included
    tasks: int
    notes: int
    orders: int
    opportunities: int
    leads: int
    support_items: int = 0


SIZES = {
    "small": Size("small", users=20, teams=2, accounts=1_000, contacts=10_000, big_account_contacts=500,
                  heavy_owner_records=500, activities=50_000, tasks=5_000, notes=2_000, orders=10_000,
                  opportunities=500, leads=200, support_items=5_000),
    "medium": Size("medium", users=200, teams=10, accounts=100_000, contacts=1_000_000,
                   big_account_contacts=5_000, heavy_owner_records=50_000, activities=5_000_000, tasks=500_000,
                   notes=200_000, orders=1_000_000, opportunities=50_000, leads=20_000,
                   support_items=500_000),
    "large": Size("large", users=2_000, teams=100, accounts=1_000_000, contacts=10_000_000,
                  big_account_contacts=50_000, heavy_owner_records=500_000, activities=50_000_000,
                  tasks=5_000_000, notes=2_000_000, orders=10_000_000, opportunities=500_000, leads=200_000,
                  support_items=5_000_000),
}

SEED_PASSWORD = "rapport-bench"
HEAVY_USER = "bench0001"
# An ordinary sales user, the second calendar the benchmark reads (team 4 on medium, team 2 on small).
ORDINARY_USER = "bench0014"
BIG_ACCOUNT = "Megacorp Holding"
# The data set's "now": records were created over the two years before it, and a fifth of the
# activities lie in the 146 days after it.
SEED_NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
# The month whose calendar the benchmark reads, and how many occurrences the two bench users have in it.
BENCH_MONTH = dt.date(2026, 11, 1)
CALENDAR_EVENTS = 1_000

FIRST_NAMES = [
    "Anna", "Björn", "Chloé", "Dmitri", "Elif", "François", "Grete", "Hiroshi", "Inés", "Jonas", "Kateřina",
    "Lars", "Marta", "Nikolai", "Olga", "Pedro", "Renée", "Søren", "Tomás", "Ulla", "Wen", "Yusuf", "Zoë",
    "Émile", "Ágnes", "Łukasz", "Nguyễn", "Ольга", "Дмитрий", "Γιώργος", "Ελένη", "太郎", "花子", "민준",
    "محمد", "فاطمة", "Aarav", "Priya", "Kwame", "Amara", "Liam", "Emma", "Noah", "Olivia", "Mateo", "Sofía",
]
LAST_NAMES = [
    "Andersson", "Berg", "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova", "Jensen",
    "Kowalski", "Lindqvist", "Martín", "Nakamura", "O'Brien", "Petrov", "Quist", "Rossi", "Schmidt", "Tanaka",
    "Ueda", "Varga", "Weiß", "Zhang", "Öztürk", "Šimek", "Müller", "Núñez", "Иванов", "Смирнова", "Παπαδόπουλος",
    "山田", "佐藤", "김", "الحسن", "Okafor", "Mensah", "Singh", "Patel", "Smith", "Johnson", "Brown", "López",
]
COMPANY_WORDS = [
    "Nordwind", "Bäckerei", "Azure", "Kyoto", "Øresund", "Lumière", "Granite", "Harbor", "Zaragoza", "Helios",
    "Ironbridge", "Lotus", "Maple", "Riverside", "Quantum", "Golden", "Säge", "Atlas", "Crescent", "Evergreen",
    "Falcon", "Żabka", "Aurora", "Москва", "東京", "Αθήνα", "Cedar", "Delta", "Ember", "Fjord", "Glacier",
    "Horizon", "Indigo", "Juniper", "Kestrel", "Lagoon", "Meridian", "Nimbus", "Orchid", "Pioneer",
]
COMPANY_KINDS = ["Logistics", "Foods", "Systems", "Textil", "Solar", "Clinic", "Labs", "Works", "Partners",
                 "Trading", "Bau", "Média", "Consulting", "Motors", "Pharma"]
SUFFIXES = ["GmbH", "Ltd", "S.A.", "Inc.", "AB", "AG", "LLC", "SARL", "Oy", "K.K.", "S.p.A.", "BV"]
INDUSTRIES = ["Manufacturing", "Retail", "Logistics", "Healthcare", "Software", "Food", "Energy", "Finance",
              "Construction", "Education"]
REGIONS = ["north", "south", "east", "west", "central"]
STAGES = ["growing", "mature", "declining", "closed", ""]
TITLES = ["CEO", "Buyer", "Head of Purchasing", "Office Manager", "CTO", "Accountant", "Sales Lead", ""]
CHUNK = 20_000


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.done = 0
        self.started = time.perf_counter()
        self._last = 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self._last > 0.5 or self.done >= self.total):
            self._last = now
            width = 30
            filled = int(width * min(self.done, self.total) / max(self.total, 1))
            rate = self.done / max(now - self.started, 1e-9)
            sys.stderr.write(f"\r{self.label:<10} [{'#' * filled}{'.' * (width - filled)}] "
                             f"{self.done:,}/{self.total:,} ({rate:,.0f}/s)")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B32_PAIRS = [a + b for a in _B32 for b in _B32]  # 10 bits -> two characters


def _public_id(rng: random.Random) -> str:
    """80 random bits as 16 characters of lowercase base32 (base64's b32encode, pure Python, took half of
    the generator's time). Fully random, as ids made before core.ids gave each hour's ids a shared start:
    records made over months spread over the whole index either way."""
    n = rng.getrandbits(80)
    pairs = _B32_PAIRS
    return (pairs[n >> 70] + pairs[(n >> 60) & 1023] + pairs[(n >> 50) & 1023] + pairs[(n >> 40) & 1023]
            + pairs[(n >> 30) & 1023] + pairs[(n >> 20) & 1023] + pairs[(n >> 10) & 1023] + pairs[n & 1023])


def _write_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], progress: Progress) -> None:
    """Bulk-insert rows: COPY on PostgreSQL, chunked executemany on SQLite."""
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    progress.advance(1)
        return
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({placeholders})"  # noqa: S608
    batch: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                cursor.executemany(sql, batch)
                progress.advance(len(batch))
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            progress.advance(len(batch))


@contextlib.contextmanager
def _bulk_load(tables: Sequence[str]) -> Iterator[None]:
    """Load into tables without their secondary indexes and foreign-key checks, then put them back.

    Building an index once over millions of sorted rows is many times faster than keeping it up
    to date row by row (random public ids make every insert touch a cold page), and the generator
    only writes ids it made or read. Primary keys and unique constraints stay in place. Runs
    outside a transaction; the indexes come back even when loading fails.
    """
    quote = connection.ops.quote_name
    saved_indexes: list[str] = []
    saved_keys: list[tuple[str, str, str]] = []
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "sqlite":
                cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                               "AND sql IS NOT NULL", [table])
            else:
                cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                               "AND tablename = %s AND indexname NOT IN (SELECT conindid::regclass::text "
                               "FROM pg_constraint WHERE conrelid = %s::regclass)", [table, table])
            for name, sql in cursor.fetchall():
                saved_indexes.append(sql)
                cursor.execute(f"DROP INDEX {quote(name)}")
            if connection.vendor == "postgresql":
                cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE conrelid = %s::regclass AND contype = 'f'", [table])
                for name, definition in cursor.fetchall():
                    saved_keys.append((table, name, definition))
                    cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    checks_off = connection.vendor == "sqlite" and connection.disable_constraint_checking()
    try:
        yield
    finally:
        if checks_off:
            connection.enable_constraint_checking()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # the default 64 MB makes a GIN index over millions of rows
                cursor.execute("SET maintenance_work_mem = '512MB'")  # spill to disk many times over
            try:
                for sql in saved_indexes:
                    cursor.execute(sql)
                for table, name, definition in saved_keys:
                    cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
            finally:
                if connection.vendor == "postgresql":
                    cursor.execute("RESET maintenance_work_mem")


def _next_id(model: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
        return int(cursor.fetchone()[0]) + 1


def _sync_sequence(model: Any) -> None:
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        quoted = connection.ops.quote_name(table)
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT COALESCE(MAX(id), 1) FROM {quoted}))",  # noqa: S608
            [quoted],
        )


def _analyze() -> None:
    """The planner's statistics of the whole data set, read from whole indexes: on SQLite as the periodic job
    reads them (core.tasks.analyze_sqlite), whatever sampling an earlier statement left on the connection."""
    if connection.vendor == "sqlite":
        from rapport.core.tasks import analyze_sqlite

        analyze_sqlite(connection)
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def seed_exists(size: str) -> bool:
    return User.objects.filter(username=HEAVY_USER).exists() and Account.objects.filter(
        name=BIG_ACCOUNT).exists() and Account.objects.count() >= SIZES[size].accounts


def seed(size_name: str, *, progress: bool = True, seed_value: int = 20261124) -> dict[str, Any]:
    """Create the data set of the given size in the current (empty) database."""
    size = SIZES[size_name]
    rng = random.Random(seed_value)
    started = time.perf_counter()
    now = SEED_NOW
    with transaction.atomic():
        users = _seed_users(size, rng)
    user_ids = [u.id for u in users]
    heavy_id = users[0].id
    with _bulk_load([model._meta.db_table for model in (Account, Contact, Attribute)]):
        with transaction.atomic():
            account_ids, account_owner = _seed_accounts(size, rng, user_ids, heavy_id, now, progress)
        with transaction.atomic():
            _seed_contacts(size, rng, user_ids, heavy_id, account_ids, account_owner, now, progress)
        if progress:
            sys.stderr.write("indexes    building the account and contact indexes\n")
    for model in (Account, Contact, Attribute):
        _sync_sequence(model)
    activities = seed_activities(size_name, progress=progress, seed_value=seed_value, analyze=False)
    sales = seed_sales(size_name, progress=progress, seed_value=seed_value, analyze=False)
    support = seed_support(size_name, progress=progress, seed_value=seed_value, analyze=False)
    search = seed_search_index(progress=progress)
    _analyze()
    elapsed = time.perf_counter() - started
    summary = {"size": size.name, "users": len(users), "accounts": size.accounts, "contacts": size.contacts,
               **activities, **sales, **support, **search, "seconds": round(elapsed, 1)}
    if progress:
        sys.stderr.write(f"Seeded {size.name}: {size.accounts:,} accounts, {size.contacts:,} contacts, "
                         f"{activities['activities']:,} activities, {activities['notes']:,} notes, "
                         f"{sales['orders']:,} orders, {sales['opportunities']:,} opportunities, "
                         f"{sales['leads']:,} leads in {elapsed:,.0f} s\n")
    return summary


def seed_search_index(*, progress: bool = True) -> dict[str, Any]:
    """Build the global search index over everything the bulk loads wrote around the record saves."""
    from rapport.search.index import progress_line, reindex

    started = time.perf_counter()
    # Nobody searches a data set being seeded: the index is built without its secondary indexes (the GIN
    # index on PostgreSQL), which are made once over the full table after; three times faster.
    with _bulk_load(["search_entry"]):
        counts = reindex(progress=progress_line() if progress else None)
    return {"search_index": sum(counts.values()), "search_index_seconds": round(time.perf_counter() - started, 1)}


def _seed_users(size: Size, rng: random.Random) -> list[User]:
    roles = {r.slug: r for r in Role.objects.all()}
    password = make_password(SEED_PASSWORD)  # hashed once, shared: hashing 200 times would take minutes
    teams = [Team.objects.create(name=f"Bench team {i + 1:02d}") for i in range(size.teams)]
    users: list[User] = []
    for index in range(size.users):
        team = teams[index % size.teams]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        user = User(username=f"bench{index + 1:04d}", first_name=first, last_name=last,
                    email=f"bench{index + 1:04d}@bench.rapport.invalid", password=password, team=team,
                    time_zone="Europe/Berlin")
        users.append(user)
    User.objects.bulk_create(users)
    users = list(User.objects.filter(username__startswith="bench").order_by("username"))
    role_through = User.roles.through
    links = []
    for index, user in enumerate(users):
        if index < size.teams:
            slug = "manager"
        else:
            slug = ["sales", "sales", "sales", "support", "marketing", "sales", "support", "read-only"][index % 8]
        links.append(role_through(user_id=user.id, role_id=roles[slug].id))
    role_through.objects.bulk_create(links)
    for index, team in enumerate(teams):
        # The first users are the managers; bench0001 (the heavy owner) manages team 1.
        team.manager = users[index]
        team.save(update_fields=["manager"])
    admin = User(username="benchadmin", first_name="Bench", last_name="Admin", password=password,
                 is_staff=True, is_superuser=True, email="benchadmin@bench.rapport.invalid")
    admin.save()
    admin.roles.set([roles["admin"]])
    return users


def _visibility(rng: random.Random) -> str:
    roll = rng.random()
    return "everyone" if roll < 0.8 else "team" if roll < 0.95 else "private"


def _timestamps(rng: random.Random, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    created = now - dt.timedelta(seconds=rng.randrange(0, 730 * 86400))
    updated = created + dt.timedelta(seconds=rng.randrange(0, max(1, int((now - created).total_seconds()))))
    return created, updated


def _dt_value(value: dt.datetime) -> Any:
    # SQLite stores Django datetimes as naive UTC text; PostgreSQL takes aware datetimes.
    return value if connection.vendor == "postgresql" else value.replace(tzinfo=None).isoformat(" ")


def _seed_accounts(size: Size, rng: random.Random, user_ids: list[int], heavy_id: int, now: dt.datetime,
                   progress: bool) -> tuple[list[int], dict[int, int]]:
    first_id = _next_id(Account)
    heavy_accounts = size.heavy_owner_records // 10
    account_owner: dict[int, int] = {}
    attributes: list[tuple[str, str, int]] = []
    columns = ["id", "public_id", "owner_id", "visibility", "version", "created_at", "updated_at", "name",
               "website", "industry", "email", "phone", "secondary_phone", "stage", "stage_changed_on",
               "remarks", "name_key", "email_key", "website_key"]

    def rows() -> Iterator[tuple[Any, ...]]:
        for index in range(size.accounts):
            account_id = first_id + index
            if index == 0:
                name = BIG_ACCOUNT
            else:
                name = (f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} "
                        f"{rng.choice(SUFFIXES)} {index}")
            owner = heavy_id if index < heavy_accounts else rng.choice(user_ids)
            account_owner[account_id] = owner
            slug = f"acct{index}"
            website = f"https://www.{slug}.example"
            email = f"info@{slug}.example"
            stage = rng.choice(STAGES)
            remarks = ""
            if rng.random() < 0.6:
                remarks = f"Customer note {index}. region={rng.choice(REGIONS)}"
                if stage:
                    remarks += f" stage={stage}"
                if rng.random() < 0.2:
                    remarks += " tier=gold"
                for key, value in parse_attributes(remarks).items():
                    attributes.append((key, value, account_id))
            created, updated = _timestamps(rng, now)
            yield (account_id, _public_id(rng), owner, _visibility(rng), 1, _dt_value(created), _dt_value(updated),
                   name, website, rng.choice(INDUSTRIES), email, f"+49 30 {rng.randrange(10**6, 10**7)}", "",
                   stage, created.date().isoformat() if stage else None, remarks, fold(name)[:200], email,
                   website_domain(website))

    _write_rows(Account._meta.db_table, columns, rows(), Progress("accounts", size.accounts, progress))
    _write_rows(Attribute._meta.db_table, ["key", "value", "account_id"], attributes,
                Progress("attributes", len(attributes), progress))
    return list(range(first_id, first_id + size.accounts)), account_owner


def _seed_contacts(size: Size, rng: random.Random, user_ids: list[int], heavy_id: int, account_ids: list[int],
                   account_owner: dict[int, int], now: dt.datetime, progress: bool) -> None:
    first_id = _next_id(Contact)
    heavy_contacts = size.heavy_owner_records - size.heavy_owner_records // 10
    big_account = account_ids[0]
    attributes: list[tuple[str, str, int]] = []
    columns = ["id", "public_id", "uid", "owner_id", "visibility", "version", "created_at", "updated_at",
               "first_name", "last_name", "title", "account_id", "email", "secondary_email", "phone", "mobile",
               "remarks", "name_key", "email_key"]

    def rows() -> Iterator[tuple[Any, ...]]:
        for index in range(size.contacts):
            contact_id = first_id + index
            if index < size.big_account_contacts:
                account_id = big_account
            elif rng.random() < 0.03:
                account_id = None
            else:
                account_id = rng.choice(account_ids)
            if size.big_account_contacts <= index < size.big_account_contacts + heavy_contacts:
                owner = heavy_id
            elif account_id is not None and rng.random() < 0.7:
                owner = account_owner[account_id]
            else:
                owner = rng.choice(user_ids)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"c{index}@mail{index % 997}.example"
            remarks = ""
            if rng.random() < 0.3:
                remarks = f"Prefers {rng.choice(['email', 'phone', 'visits'])}. region={rng.choice(REGIONS)}"
                for key, value in parse_attributes(remarks).items():
                    attributes.append((key, value, contact_id))
            created, updated = _timestamps(rng, now)
            public_id = _public_id(rng)
            yield (contact_id, public_id, public_id, owner, _visibility(rng), 1, _dt_value(created),
                   _dt_value(updated), first, last, rng.choice(TITLES), account_id, email, "",
                   f"+49 40 {rng.randrange(10**6, 10**7)}", "", remarks, fold(f"{last} {first}")[:201], email)

    _write_rows(Contact._meta.db_table, columns, rows(), Progress("contacts", size.contacts, progress))
    _write_rows(Attribute._meta.db_table, ["key", "value", "contact_id"], attributes,
                Progress("attributes", len(attributes), progress))


# --- Activities and notes ---------------------------------------------------------------------------
#
# Activities are laid out over the working days of 24 months, a fifth of them after SEED_NOW, in
# date order (so ids follow the calendar roughly, as in a CRM where calls and meetings are logged
# around the time they happen). One in ten is a task (all day, on its due date); the rest are
# calls, meetings and logged emails in Berlin office hours, with a few all-day and multi-day
# events and 1.5% weekly recurring meetings (a tenth of them without end), a third of which have
# a moved or skipped occurrence. Each activity is assigned to its owner; 5% also to a teammate,
# 3% only to a teammate (delegated). A quarter are linked to an account and/or a contact
# (the big account gets 1% of the links), and a linked meeting has the contact as attendee.

ACTIVITY_TIME_ZONE = "Europe/Berlin"
PAST_DAYS, FUTURE_DAYS = 584, 146
ACTIVITY_CHUNK = 20_000
COMMIT_EVERY = 10  # chunks per transaction: bounded WAL on SQLite, bounded memory everywhere
ROLE_WEIGHTS = {"manager": 1.0, "sales": 1.0, "support": 0.8, "marketing": 0.5, "read-only": 0.2}
BENCH_USERS = (HEAVY_USER, ORDINARY_USER)

ACTIVITY_COLUMNS = [
    "id", "public_id", "uid", "owner_id", "visibility", "version", "created_at", "updated_at", "created_by_id",
    "deleted_at", "activity_type", "kind_id", "subject", "description", "location", "status", "priority",
    "starts_at", "ends_at", "all_day", "time_zone", "rrule", "recurrence_ends_at", "reminder_minutes",
    "completed_at", "ical_source",
]
ASSIGNEE_COLUMNS = ["activity_id", "user_id", "starts_at", "last_ends_at", "is_long", "open_task"]
LINK_COLUMNS = ["activity_id", "record_type", "record_id"]
EXCEPTION_COLUMNS = ["activity_id", "original_start", "cancelled", "starts_at", "ends_at"]
ATTENDEE_COLUMNS = ["activity_id", "contact_id"]
NOTE_COLUMNS = ["public_id", "owner_id", "visibility", "version", "created_at", "updated_at", "created_by_id",
                "deleted_at", "body", "about_type", "about_id"]

CALL_SUBJECTS = ["Call {name}", "Call back {name}", "Follow-up call with {name}", "Rückruf {name}",
                 "Appel {name}", "Звонок: {name}", "電話 {name}"]
MEETING_SUBJECTS = ["Meeting with {company}", "Quarterly review {company}", "Demo for {company}",
                    "Besprechung {company}", "Réunion {company}", "打ち合わせ {company}", "Συνάντηση {company}"]
EMAIL_SUBJECTS = ["Email to {name}: quote", "Sent price list to {name}", "Angebot an {name} geschickt",
                  "Email: contract renewal {company}", "Courriel à {name}"]
TASK_SUBJECTS = ["Send quote to {company}", "Prepare proposal for {company}", "Update details of {name}",
                 "Follow up {name}", "Angebot nachfassen: {company}", "Renew contract {company}", "Relancer {name}",
                 "Подготовить договор {company}"]
RECURRING_SUBJECTS = ["Weekly sync {company}", "Team meeting", "Pipeline review", "Wöchentliche Abstimmung",
                      "Point hebdo {company}"]
DESCRIPTIONS = ["Discussed pricing and delivery dates.", "Customer asked for a revised quote; Müller to check "
                "stock.", "Bring the signed contract.", "Agenda: pipeline, forecasts, open support items.",
                "Rappeler après la réunion du comité.", "Klärung der Lieferbedingungen."]
LOCATIONS = ["Room 2.14", "Customer site", "Zoom", "Teams", "Café Einstein, Berlin", "Salle Lumière", "東京本社"]
NOTE_BODIES = ["Prefers calls in the morning.", "Budget for next year approved — follow up in Q1.",
               "Met at the trade fair in Köln; interested in the premium plan.", "Wants invoices by email only.",
               "Der Einkauf entscheidet erst nach der Messe.", "Contact changed roles; new buyer is Ms. Šimek.",
               "Relancer en janvier au sujet du renouvellement.", "Прислать коммерческое предложение.",
               "担当者が変わりました。", "Complained about delivery delays; escalated to logistics."]


class _Times:
    """Fast UTC text for the bulk paths (as Django writes datetimes: "2026-11-01 12:00:00", with
    "+00:00" for PostgreSQL), and Berlin office hours on a day as UTC seconds."""

    def __init__(self) -> None:
        self.zone = zoneinfo.ZoneInfo(ACTIVITY_TIME_ZONE)
        suffix = "+00:00" if connection.vendor == "postgresql" else ""
        self._clock = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}" for s in range(86400)]
        self._days: dict[int, str] = {}
        self._offsets: dict[int, int] = {}

    def text(self, seconds: int | None) -> str | None:
        if seconds is None:
            return None
        day, rest = divmod(seconds, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()
        return prefix + self._clock[rest]

    def offset(self, ordinal: int) -> int:
        """The zone's UTC offset (seconds) at noon on a day."""
        found = self._offsets.get(ordinal)
        if found is None:
            noon = dt.datetime.combine(dt.date.fromordinal(ordinal), dt.time(12), tzinfo=self.zone)
            found = self._offsets[ordinal] = int(noon.utcoffset().total_seconds())  # type: ignore[union-attr]
        return found

    @staticmethod
    def midnight(ordinal: int) -> int:
        return (ordinal - dt.date(1970, 1, 1).toordinal()) * 86400

    def local(self, ordinal: int, seconds_of_day: int) -> int:
        """A Berlin wall-clock time on a day, as UTC seconds (office hours: no DST gap)."""
        return self.midnight(ordinal) + seconds_of_day - self.offset(ordinal)


@contextlib.contextmanager
def _large_cache() -> Iterator[None]:
    """On SQLite, a page cache of about 1 GB while loading, so the new indexes' pages stay in memory."""
    restore = None
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            restore = cursor.fetchone()[0]
            cursor.execute("PRAGMA cache_size=-1000000")
    try:
        yield
    finally:
        if restore is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size={int(restore)}")


def activities_seeded(size: str) -> bool:
    """Whether the data set already has its activities (a data set seeded before they joined has not)."""
    from rapport.activities.models import Activity

    return Activity.objects.count() >= SIZES[size].activities

def seed_activities(size_name: str, *, progress: bool = True, seed_value: int = 20261124,
                    analyze: bool = True) -> dict[str, Any]:
    """Add the activities, their assignments, links, exceptions and attendees, and the notes, to a
    database that holds the seeded users, accounts and contacts (and no activities yet)."""
    from rapport.activities.models import Activity, ActivityKind

    size = SIZES[size_name]
    rng = random.Random(seed_value + 1)  # its own stream: the directory data stay as they were
    started = time.perf_counter()
    times = _Times()
    with _large_cache():
        world = _World.load(size)
        kinds = dict(ActivityKind.objects.values_list("key", "id"))
        maker = _ActivityMaker(size, rng, world, kinds, times, first_id=_next_id(Activity))
        bar = Progress("activities", size.activities, progress)
        days = _working_days()
        chunks = range(0, size.activities, ACTIVITY_CHUNK)
        with _bulk_load(maker.tables()):
            for group_start in range(0, len(chunks), COMMIT_EVERY):
                with transaction.atomic():
                    for chunk_start in chunks[group_start:group_start + COMMIT_EVERY]:
                        count = min(ACTIVITY_CHUNK, size.activities - chunk_start)
                        for i in range(chunk_start, chunk_start + count):
                            maker.make(days[i * len(days) // size.activities])
                        maker.flush()
                        bar.advance(count)
            if progress:
                sys.stderr.write("indexes    building the activity indexes\n")
        _sync_sequence(Activity)
        topped = _top_up_calendars(maker, world, times)
        _sync_sequence(Activity)
        notes = _seed_notes(size, rng, world, times, progress)
    if analyze:
        _analyze()
    return {"activities": maker.made, "tasks": maker.tasks, "recurring": maker.recurring,
            "assignments": maker.assignments, "links": maker.links, "exceptions": maker.exceptions,
            "notes": notes, "calendar_top_up": topped, "activity_seconds": round(time.perf_counter() - started, 1)}


def _working_days() -> list[int]:
    """The ordinals of Monday to Friday over the 24 months around SEED_NOW."""
    first = (SEED_NOW - dt.timedelta(days=PAST_DAYS)).date().toordinal()
    last = (SEED_NOW + dt.timedelta(days=FUTURE_DAYS)).date().toordinal()
    return [d for d in range(first, last) if dt.date.fromordinal(d).weekday() < 5]


@dataclass
class _World:
    """What the activities are made from: the seeded users (with their weights and teams), accounts
    and contacts, read back from the database."""

    user_ids: list[int]
    cum_weights: list[float]
    teammates: dict[int, list[int]]
    bench_ids: list[int]
    account_ids: list[int]
    big_account_id: int
    contact_ids: Any  # array of contact ids
    contact_accounts: Any  # array of their account ids (0: none)
    big_contacts: list[int]

    @classmethod
    def load(cls, size: Size) -> _World:
        users = list(User.objects.filter(username__regex=r"^bench[0-9]{4}$").order_by("username")
                     .values_list("id", "username", "team_id"))
        roles = dict(User.roles.through.objects.filter(user_id__in=[u[0] for u in users])
                     .values_list("user_id", "role__slug"))
        jitter = random.Random(7)
        weights: dict[int, float] = {}
        for user_id, _username, _team in users:
            weights[user_id] = ROLE_WEIGHTS.get(roles.get(user_id, "sales"), 1.0) * jitter.uniform(0.8, 1.2)
        bench_ids = [u[0] for u in users if u[1] in BENCH_USERS]
        # The two bench users get the share that puts about CALENDAR_EVENTS occurrences in a month on
        # their calendars (their own activities, what teammates assign them, and weekly recurrences:
        # about 1.25 calendar rows per activity they own); small tops up the bench month instead.
        per_month = size.activities * 30.4 / (PAST_DAYS + FUTURE_DAYS)
        average_from_teammates = 0.08 * per_month / max(len(users), 1)
        share = min(0.05, max(0.0, CALENDAR_EVENTS - average_from_teammates) / 1.25 / per_month)
        others = sum(w for uid, w in weights.items() if uid not in bench_ids)
        for uid in bench_ids:
            weights[uid] = share * others / max(1e-9, 1 - share * len(bench_ids))
        cum: list[float] = []
        total = 0.0
        for user_id, _username, _team in users:
            total += weights[user_id]
            cum.append(total)
        teams: dict[int, list[int]] = {}
        for user_id, _username, team_id in users:
            teams.setdefault(team_id, []).append(user_id)
        teammates = {user_id: [m for m in teams[team_id] if m != user_id] or [user_id]
                     for user_id, _username, team_id in users}
        account_ids = list(Account.objects.order_by("id").values_list("id", flat=True))
        big_account_id = Account.objects.get(name=BIG_ACCOUNT).id
        contact_ids, contact_accounts = array.array("q"), array.array("q")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, account_id FROM {Contact._meta.db_table} ORDER BY id")  # noqa: S608
            while rows := cursor.fetchmany(50_000):
                for contact_id, account_id in rows:
                    contact_ids.append(contact_id)
                    contact_accounts.append(account_id or 0)
        big_contacts = list(Contact.objects.filter(account_id=big_account_id).order_by("id")
                            .values_list("id", flat=True))
        return cls(user_ids=[u[0] for u in users], cum_weights=cum, teammates=teammates, bench_ids=bench_ids,
                   account_ids=account_ids, big_account_id=big_account_id, contact_ids=contact_ids,
                   contact_accounts=contact_accounts, big_contacts=big_contacts)


class _ActivityMaker:
    """Builds activity rows and their child rows in buffers; flush() writes them through the bulk path."""

    def __init__(self, size: Size, rng: random.Random, world: _World, kinds: dict[str, int], times: _Times,
                 first_id: int) -> None:
        self.rng, self.world, self.kinds, self.times = rng, world, kinds, times
        self.task_share = size.tasks / size.activities
        self.next_id = first_id
        self.now = int(SEED_NOW.timestamp())
        self.today = SEED_NOW.date().toordinal()
        self.made = self.tasks = self.recurring = self.assignments = self.links = self.exceptions = 0
        self.activity_rows: list[tuple[Any, ...]] = []
        self.assignee_rows: list[tuple[Any, ...]] = []
        self.link_rows: list[tuple[Any, ...]] = []
        self.exception_rows: list[tuple[Any, ...]] = []
        self.attendee_rows: list[tuple[Any, ...]] = []

    def _owner(self) -> int:
        world = self.world
        return world.user_ids[min(len(world.user_ids) - 1,
                                  bisect.bisect_right(world.cum_weights, self.rng.random() * world.cum_weights[-1]))]

    def _pick(self, items: Sequence[Any]) -> Any:
        return items[int(self.rng.random() * len(items))]

    def _name(self) -> str:
        return f"{self._pick(FIRST_NAMES)} {self._pick(LAST_NAMES)}"

    def _company(self) -> str:
        return f"{self._pick(COMPANY_WORDS)} {self._pick(COMPANY_KINDS)}"

    def make(self, day: int, owner: int | None = None, *, plain: bool = False) -> None:
        """One activity on a working day (an ordinal); `plain`: a single event or task, no recurrence."""
        r = self.rng.random
        t = self.times
        activity_id = self.next_id
        self.next_id += 1
        self.made += 1
        owner = owner if owner is not None else self._owner()
        rrule, recurrence_end, reminder, location, description = "", None, None, "", ""
        exceptions: list[tuple[Any, ...]] = []
        if r() < self.task_share:
            self.tasks += 1
            activity_type, all_day = "task", True
            roll = r()
            kind = "todo" if roll < 0.6 else "call" if roll < 0.85 else "email"
            starts = ends = t.midnight(day)
            subject = self._pick(TASK_SUBJECTS)
            roll = r()
            if day < self.today:
                status = "completed" if roll < 0.82 else "cancelled" if roll < 0.87 else "open" if roll < 0.96 \
                    else "pending"
            else:
                status = "open" if roll < 0.85 else "pending"
        else:
            activity_type = "event"
            roll = r()
            all_day = False
            if roll < 0.015 and not plain:
                kind = "meeting"
                self.recurring += 1
                slot = 8 * 3600 + int(r() * 36) * 900
                starts = t.local(day, slot)
                duration = (30, 60)[int(r() * 2)] * 60
                ends = starts + duration
                subject = self._pick(RECURRING_SUBJECTS)
                if r() < 0.1:
                    rrule, count = "FREQ=WEEKLY", 20  # no end; exceptions among its first 20 weeks
                else:
                    count = 4 + int(r() * 23)
                    rrule = f"FREQ=WEEKLY;COUNT={count}"
                    last_day = day + 7 * (count - 1)
                    recurrence_end = t.local(last_day, slot) + duration
                if r() < 0.33:
                    for k in {1 + int(r() * (count - 1)) for _ in range(1 + int(r() * 2))}:
                        original = t.local(day + 7 * k, slot)
                        if r() < 0.6:
                            exceptions.append((activity_id, t.text(original), True, None, None))
                        else:
                            moved = original + (86400 if r() < 0.5 else 7200)
                            exceptions.append((activity_id, t.text(original), False, t.text(moved),
                                               t.text(moved + duration)))
            elif roll < 0.025:
                kind = "meeting"
                all_day = True
                starts = t.midnight(day)
                ends = starts + 86400 * (1 + int(r() * 3))
                subject = self._pick(MEETING_SUBJECTS)
            elif roll < 0.028:
                kind = "meeting"
                all_day = True
                starts = t.midnight(day)
                ends = starts + 86400 * (8 + int(r() * 7))  # a trade fair, a training: longer than a week
                subject = "Messe / trade fair {company}"
            else:
                roll = r()
                kind = "call" if roll < 0.4 else "meeting" if roll < 0.7 else "email"
                starts = t.local(day, 8 * 3600 + int(r() * 40) * 900)
                if kind == "call":
                    ends = starts + (15, 30)[int(r() * 2)] * 60
                    subject = self._pick(CALL_SUBJECTS)
                elif kind == "meeting":
                    ends = starts + (30, 60, 90, 120)[int(r() * 4)] * 60
                    subject = self._pick(MEETING_SUBJECTS)
                else:
                    ends = starts  # a logged email is a moment
                    subject = self._pick(EMAIL_SUBJECTS)
            roll = r()
            if starts < self.now and not rrule:
                status = "completed" if roll < 0.92 else "cancelled" if roll < 0.96 else "open"
            else:
                status = "open" if roll < 0.95 else "cancelled"
            if kind == "meeting":
                reminder = 15 if r() < 0.4 else None
                location = self._pick(LOCATIONS) if r() < 0.5 else ""
        if "{" in subject:
            subject = subject.format(name=self._name(), company=self._company())
        if r() < 0.15:
            description = self._pick(DESCRIPTIONS)
        roll = r()
        priority = "normal" if roll < 0.7 else "high" if roll < 0.85 else "low"
        created = min(starts, self.now) - int(r() * 10 * 86400)
        updated = created + int(r() * max(1, self.now - created))
        deleted = updated if r() < 0.003 else None
        completed = (ends if activity_type == "event" else starts + int(r() * 2 * 86400)) \
            if status == "completed" else None
        public_id = _public_id(self.rng)
        self.activity_rows.append((
            activity_id, public_id, public_id, owner, _visibility(self.rng), 1, t.text(created), t.text(updated),
            owner, t.text(deleted), activity_type, self.kinds[kind], subject[:200], description, location, status,
            priority, t.text(starts), t.text(ends), all_day, ACTIVITY_TIME_ZONE, rrule, t.text(recurrence_end),
            reminder, t.text(completed), "",
        ))
        # The assignment rows carry the activity's place on calendars (services._assignment_values).
        roll = r()
        if roll < 0.03:
            assigned = [self._pick(self.world.teammates[owner])]
        elif roll < 0.08:
            mate = self._pick(self.world.teammates[owner])
            assigned = [owner] if mate == owner else [owner, mate]
        else:
            assigned = [owner]
        last_end = (recurrence_end if rrule else ends)
        is_long = bool(rrule) or ends - starts > 7 * 86400
        open_task = activity_type == "task" and status in ("open", "pending") and deleted is None
        starts_text, last_end_text = t.text(starts), t.text(last_end)
        for user_id in assigned:
            self.assignee_rows.append((activity_id, user_id, starts_text, last_end_text, is_long, open_task))
        self.assignments += len(assigned)
        self.exception_rows.extend(exceptions)
        self.exceptions += len(exceptions)
        if r() < 0.25:
            self._link(activity_id, kind == "meeting")

    def _link(self, activity_id: int, meeting: bool) -> None:
        r = self.rng.random
        world = self.world
        contact = account = 0
        if r() < 0.01:
            account = world.big_account_id
            if r() < 0.5:
                contact = self._pick(world.big_contacts)
        else:
            index = int(r() * len(world.contact_ids))
            roll = r()
            if roll < 0.3:
                account = world.contact_accounts[index] or self._pick(world.account_ids)
            else:
                contact = world.contact_ids[index]
                if roll < 0.8:
                    account = world.contact_accounts[index]
        if account:
            self.link_rows.append((activity_id, "account", account))
        if contact:
            self.link_rows.append((activity_id, "contact", contact))
            if meeting:
                self.attendee_rows.append((activity_id, contact))
        self.links += bool(account) + bool(contact)

    @staticmethod
    def tables() -> list[str]:
        from rapport.activities.models import Activity, ActivityAssignee, ActivityException, ActivityLink

        return [model._meta.db_table for model in (Activity, ActivityAssignee, ActivityLink, ActivityException,
                                                   Activity.attendees.through)]

    def flush(self) -> None:
        quiet = Progress("", 0, False)
        columns = (ACTIVITY_COLUMNS, ASSIGNEE_COLUMNS, LINK_COLUMNS, EXCEPTION_COLUMNS, ATTENDEE_COLUMNS)
        buffers = (self.activity_rows, self.assignee_rows, self.link_rows, self.exception_rows, self.attendee_rows)
        for table, names, rows in zip(self.tables(), columns, buffers, strict=True):
            if rows:
                _write_rows(table, names, rows, quiet)
            rows.clear()


def bench_month_range(user: User) -> tuple[dt.datetime, dt.datetime]:
    """The bench month in the user's time zone: [first midnight, next month's first midnight)."""
    zone = zoneinfo.ZoneInfo(user.time_zone or "UTC")
    start = dt.datetime.combine(BENCH_MONTH, dt.time(0), tzinfo=zone)
    following = (BENCH_MONTH.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    end = dt.datetime.combine(following, dt.time(0), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _top_up_calendars(maker: _ActivityMaker, world: _World, times: _Times) -> int:
    """Give each bench user about CALENDAR_EVENTS occurrences in the bench month.

    On medium and large their share of the activities already does (within 10%); on small, with
    a hundredth of the activities, single events and tasks in that month make up the difference.
    """
    from rapport.activities.selectors import calendar

    days = [d for d in _working_days() if dt.date.fromordinal(d).month == BENCH_MONTH.month
            and dt.date.fromordinal(d).year == BENCH_MONTH.year]
    added = 0
    with transaction.atomic():
        for user in User.objects.filter(pk__in=world.bench_ids):
            start, end = bench_month_range(user)
            have = len(calendar(user=user, people=[user], start=start, end=end))
            missing = CALENDAR_EVENTS - have
            if missing < CALENDAR_EVENTS * 0.1:
                continue
            for i in range(missing):
                maker.make(days[i * len(days) // missing], owner=user.pk, plain=True)
            added += missing
        maker.flush()
    return added


def _seed_notes(size: Size, rng: random.Random, world: _World, times: _Times, progress: bool) -> int:
    """Notes on accounts (40%) and contacts (60%); the big account gets 0.5% of them."""
    from rapport.activities.models import Note

    now = int(SEED_NOW.timestamp())
    span = (PAST_DAYS + FUTURE_DAYS) * 86400

    def rows() -> Iterator[tuple[Any, ...]]:
        r = rng.random
        for _ in range(size.notes):
            roll = r()
            if roll < 0.005:
                about_type, about_id = "account", world.big_account_id
            elif roll < 0.4:
                about_type, about_id = "account", world.account_ids[int(r() * len(world.account_ids))]
            else:
                about_type, about_id = "contact", world.contact_ids[int(r() * len(world.contact_ids))]
            owner = world.user_ids[int(r() * len(world.user_ids))]
            created = now - int(r() * span * 0.8)
            updated = created if r() < 0.9 else created + int(r() * (now - created))
            body = NOTE_BODIES[int(r() * len(NOTE_BODIES))]
            yield (_public_id(rng), owner, "team", 1, times.text(created), times.text(updated), owner, None, body,
                   about_type, about_id)

    with transaction.atomic():
        _write_rows(Note._meta.db_table, NOTE_COLUMNS, rows(), Progress("notes", size.notes, progress))
    return size.notes


# --- Sales: opportunities, leads, account stage history, orders (issue 7) ------------------------------
#
# Opportunities spread over the accounts (Megacorp gets 0.5%), 60% open in the default pipeline's
# open stages (more in the early ones) expecting to close within a year of SEED_NOW, 40% won or lost
# in the year before it; each has 1-3 stage changes ending in its stage and 0-2 of its account's
# contacts. Leads take every status; a converted one points to an opportunity, its account and a
# contact. Accounts with a relationship stage get one or two stage changes in the past year. Orders
# lie on the 24 months before SEED_NOW in date order, on 40% of the accounts with a long-tailed
# share each (Megacorp gets 1%), a fifth with 1-3 lines adding up to the order's amount.

SALES_CHUNK = 20_000
SALES_DAYS = 730
BIG_ACCOUNT_SHARE = 0.005  # of the opportunities
BIG_ACCOUNT_ORDERS = 0.01  # of the orders: its orders panel is the long one (10,000 on medium)
ORDER_NUMBER = "B-{:08d}"  # ORD-<n> is the series services.order_create hands out: the two never meet
CURRENCY_SHARES = (("EUR", 0.85), ("USD", 0.93), ("GBP", 0.97), ("CHF", 1.0))  # cumulative
ORDER_PRODUCTS = [("Starter licence", 49_000), ("Team licence", 189_000), ("Support hours (10)", 95_000),
                  ("Training day", 120_000), ("Hardware kit", 34_990), ("Installation", 60_000),
                  ("Wartungsvertrag", 250_000), ("Abonnement annuel", 72_000), ("Ersatzteile", 1_250),
                  ("Консультация", 45_000), ("保守サポート", 88_000)]
DEAL_NAMES = ["Licence renewal", "Expansion", "New site roll-out", "Support contract", "Training package",
              "Pilot project", "Upgrade", "Rahmenvertrag", "Renouvellement", "Ampliación", "Продление лицензии",
              "導入プロジェクト", "Αναβάθμιση"]
LEAD_SOURCES = ["Trade fair", "Website", "Referral", "Cold call", "Newsletter", "Partner"]
CONTACT_ROLES = ["Decision maker", "Champion", "Buyer", "Technical contact", "User", ""]
NEXT_STEPS = ["Send the offer", "Book a demo", "Call the buyer", "Angebot nachfassen", "Envoyer le contrat", ""]
WON_REASONS = ["Best price and support", "Existing relationship", "Fastest delivery", ""]
LOST_REASONS = ["Chose a competitor", "No budget", "Project cancelled", "Kein Bedarf mehr", ""]
LEAD_STATUSES = (("new", 0.35), ("contacted", 0.60), ("qualified", 0.75), ("unqualified", 0.90),
                 ("converted", 1.0))  # cumulative

OPPORTUNITY_COLUMNS = [
    "id", "public_id", "owner_id", "visibility", "version", "created_at", "updated_at", "created_by_id",
    "deleted_at", "name", "account_id", "stage_id", "amount", "currency", "probability", "expected_close_on",
    "source", "next_step", "outcome_reason", "description", "stage_changed_at", "closed_on", "is_open", "name_key",
]
OPPORTUNITY_STAGE_COLUMNS = ["opportunity_id", "from_stage_id", "to_stage_id", "changed_at", "changed_by_id"]
OPPORTUNITY_CONTACT_COLUMNS = ["opportunity_id", "contact_id", "role"]
LEAD_COLUMNS = [
    "public_id", "owner_id", "visibility", "version", "created_at", "updated_at", "created_by_id", "deleted_at",
    "first_name", "last_name", "company", "title", "email", "phone", "source", "status", "remarks", "account_id",
    "contact_id", "opportunity_id", "converted_at", "name_key", "email_key",
]
ACCOUNT_STAGE_COLUMNS = ["account_id", "from_stage", "to_stage", "changed_on", "changed_by_id"]
ORDER_COLUMNS = [
    "id", "public_id", "owner_id", "visibility", "version", "created_at", "updated_at", "created_by_id",
    "deleted_at", "account_id", "opportunity_id", "number", "ordered_on", "amount", "currency", "status",
    "description",
]
ORDER_LINE_COLUMNS = ["order_id", "position", "product", "quantity", "unit_price", "amount"]


def sales_seeded(size: str) -> bool:
    """Whether the data set has its sales records: the last order the sales step writes exists."""
    from rapport.sales.models import Order

    return Order.objects.filter(number=ORDER_NUMBER.format(SIZES[size].orders)).exists()


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass
class _SalesWorld:
    """What the sales records are made from, read back from the database: the bench users, the
    accounts (owner, visibility, relationship stage, creation day) and their contacts (sorted by
    account, so an account's contacts are one range found by bisection)."""

    user_ids: list[int]
    account_ids: Any  # array of account ids
    account_name: list[str]
    account_owner: Any  # array of their owners
    account_visibility: list[str]
    account_stage: list[str]
    account_created: Any  # array of creation days (ordinals)
    big_index: int
    contact_account: Any  # array of account ids, sorted
    contact_ids: Any  # array of contact ids, in the same order

    @classmethod
    def load(cls) -> _SalesWorld:
        users = list(User.objects.filter(username__regex=r"^bench[0-9]{4}$").order_by("username")
                     .values_list("id", flat=True))
        ids, owners, created = array.array("q"), array.array("q"), array.array("q")
        names: list[str] = []
        visibility: list[str] = []
        stages: list[str] = []
        interned: dict[str, str] = {}
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, name, owner_id, visibility, stage, created_at "  # noqa: S608
                           f"FROM {Account._meta.db_table} WHERE deleted_at IS NULL ORDER BY id")
            while rows := cursor.fetchmany(50_000):
                for account_id, name, owner_id, vis, stage, created_at in rows:
                    ids.append(account_id)
                    names.append(name)
                    owners.append(owner_id)
                    visibility.append(interned.setdefault(vis, vis))
                    stages.append(interned.setdefault(stage or "", stage or ""))
                    day = dt.date.fromisoformat(created_at[:10]) if isinstance(created_at, str) \
                        else created_at.date()
                    created.append(day.toordinal())
        big_id = Account.objects.filter(name=BIG_ACCOUNT).order_by("id").values_list("id", flat=True).first()
        contact_account, contact_ids = array.array("q"), array.array("q")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT account_id, id FROM {Contact._meta.db_table} "  # noqa: S608
                           "WHERE account_id IS NOT NULL AND deleted_at IS NULL ORDER BY account_id, id")
            while rows := cursor.fetchmany(50_000):
                for account_id, contact_id in rows:
                    contact_account.append(account_id)
                    contact_ids.append(contact_id)
        return cls(user_ids=users, account_ids=ids, account_name=names, account_owner=owners,
                   account_visibility=visibility, account_stage=stages, account_created=created,
                   big_index=bisect.bisect_left(ids, big_id) if big_id is not None else 0,
                   contact_account=contact_account, contact_ids=contact_ids)

    def contacts_of(self, account_id: int) -> tuple[int, int]:
        """The range of the account's contacts in contact_ids."""
        return (bisect.bisect_left(self.contact_account, account_id),
                bisect.bisect_right(self.contact_account, account_id))


class _SalesMaker:
    """Builds the sales rows; each part is written in chunks, a transaction per COMMIT_EVERY chunks."""

    def __init__(self, size: Size, rng: random.Random, world: _SalesWorld, times: _Times) -> None:
        self.size, self.rng, self.world, self.times = size, rng, world, times
        self.now = int(SEED_NOW.timestamp())
        self.today = SEED_NOW.date().toordinal()
        self._day_text: dict[int, str] = {}
        self.counts: dict[str, int] = {}

    # Small helpers ---------------------------------------------------------------------------------

    def pick(self, items: Sequence[Any]) -> Any:
        return items[int(self.rng.random() * len(items))]

    def day(self, ordinal: int | None) -> str | None:
        if ordinal is None:
            return None
        text = self._day_text.get(ordinal)
        if text is None:
            text = self._day_text[ordinal] = dt.date.fromordinal(ordinal).isoformat()
        return text

    def at(self, ordinal: int, earliest: int = 0) -> int:
        """A moment in (UTC) office hours on a day, as epoch seconds, not before `earliest` nor after now."""
        moment = _Times.midnight(ordinal) + 7 * 3600 + int(self.rng.random() * 9 * 3600)
        return min(max(moment, earliest), self.now)

    def currency(self) -> str:
        roll = self.rng.random()
        return next(code for code, share in CURRENCY_SHARES if roll < share)

    def account_index(self) -> int:
        world = self.world
        if self.rng.random() < BIG_ACCOUNT_SHARE:
            return world.big_index
        return int(self.rng.random() * len(world.account_ids))

    def _write(self, total: int, label: str, progress: bool, tables: Sequence[tuple[str, Sequence[str]]],
               make: Any) -> None:
        """Call make(i, buffers) for i in range(total), writing the buffers every SALES_CHUNK rows."""
        bar = Progress(label, total, progress)
        quiet = Progress("", 0, False)
        buffers: list[list[tuple[Any, ...]]] = [[] for _ in tables]
        chunks = range(0, total, SALES_CHUNK)
        for group_start in range(0, len(chunks), COMMIT_EVERY):
            with transaction.atomic():
                for chunk_start in chunks[group_start:group_start + COMMIT_EVERY]:
                    count = min(SALES_CHUNK, total - chunk_start)
                    for i in range(chunk_start, chunk_start + count):
                        make(i, buffers)
                    for (table, columns), rows in zip(tables, buffers, strict=True):
                        if rows:
                            _write_rows(table, columns, rows, quiet)
                        rows.clear()
                    bar.advance(count)
        if total == 0:
            bar.advance(0)

    # Opportunities ---------------------------------------------------------------------------------

    def opportunities(self, stages: Sequence[Any], progress: bool) -> tuple[int, Any]:
        """Write the opportunities with their stage changes and people; their first id and accounts."""
        from rapport.sales.models import Opportunity, OpportunityContact, OpportunityStageChange

        open_stages = [s for s in stages if s.outcome == "open"]
        won = [s for s in stages if s.outcome == "won"]
        lost = [s for s in stages if s.outcome == "lost"]
        if not open_stages:
            raise RuntimeError("The default pipeline has no open stage to seed opportunities into.")
        # Earlier stages hold more deals: weights n, n-1, ..., 1.
        open_cum = list(itertools.accumulate(range(len(open_stages), 0, -1)))
        world, t, rng = self.world, self.times, self.rng
        r = rng.random
        first_id = _next_id(Opportunity)
        accounts = array.array("q")
        counts = {"opportunities": 0, "open_opportunities": 0, "opportunity_stage_changes": 0,
                  "opportunity_contacts": 0}

        def make(i: int, buffers: list[list[tuple[Any, ...]]]) -> None:
            opportunities, changes, people = buffers
            opportunity_id = first_id + i
            index = self.account_index()
            account_id = world.account_ids[index]
            accounts.append(account_id)
            owner = world.account_owner[index] if r() < 0.8 else self.pick(world.user_ids)
            account_created = world.account_created[index]
            closed = r() >= 0.6 and bool(won or lost)
            if not closed:
                stage = open_stages[bisect.bisect_right(open_cum, r() * open_cum[-1])]
                expected = self.today + 1 + int(r() * 365)
                created_day = max(account_created, self.today - int(r() * 365))
                created = self.at(created_day)
                changed = created + int(r() * (self.now - created))
                closed_on = None
                earlier = [s for s in open_stages if s.position < stage.position]
                counts["open_opportunities"] += 1
            else:
                stage = self.pick(won) if won and (not lost or r() < 0.45) else self.pick(lost)
                closed_day = self.today - 1 - int(r() * 365)
                created_day = max(account_created, closed_day - 7 - int(r() * 180))
                closed_day = min(max(closed_day, created_day), self.today)
                created = self.at(created_day)
                changed = self.at(closed_day, earliest=created)
                closed_on = closed_day
                expected = closed_day + int(r() * 61) - 30
                earlier = open_stages
            # 1-3 stage changes ending in the current stage; a closed deal passed an open stage first.
            wanted = int(r() * 3)
            if closed_on is not None:
                wanted = max(wanted, 1)
            path = [*sorted(rng.sample(earlier, min(wanted, len(earlier))), key=lambda s: s.position), stage]
            if len(path) == 1:
                changed = created
            moments = [created, *sorted(created + int(r() * (changed - created)) for _ in path[1:-1])]
            if len(path) > 1:
                moments.append(changed)
            previous = None
            for step, moment in zip(path, moments, strict=True):
                changes.append((opportunity_id, previous, step.pk, t.text(moment), owner))
                previous = step.pk
            counts["opportunity_stage_changes"] += len(path)
            start, end = world.contacts_of(account_id)
            if end > start:
                roll = r()
                wanted = 0 if roll < 0.3 else 1 if roll < 0.75 else 2
                for position in rng.sample(range(start, end), min(wanted, end - start)):
                    people.append((opportunity_id, world.contact_ids[position], self.pick(CONTACT_ROLES)))
                    counts["opportunity_contacts"] += 1
            name = f"{self.pick(DEAL_NAMES)}: {world.account_name[index]}"[:200]
            amount = max(100, round(math.exp(rng.gauss(9.6, 1.0)), -2))
            updated = max(changed, created + int(r() * (self.now - created)))
            reason = "" if closed_on is None else self.pick(WON_REASONS if stage.outcome == "won" else LOST_REASONS)
            public_id = _public_id(rng)
            opportunities.append((
                opportunity_id, public_id, owner, world.account_visibility[index], 1, t.text(created),
                t.text(updated), owner, None, name, account_id, stage.pk, f"{int(amount)}.00", self.currency(),
                stage.probability, self.day(expected), self.pick(LEAD_SOURCES),
                "" if closed_on is not None else self.pick(NEXT_STEPS), reason, "", t.text(changed),
                self.day(closed_on), closed_on is None, fold(name)[:200],
            ))
            counts["opportunities"] += 1

        tables = [(m._meta.db_table, columns) for m, columns in (
            (Opportunity, OPPORTUNITY_COLUMNS), (OpportunityStageChange, OPPORTUNITY_STAGE_COLUMNS),
            (OpportunityContact, OPPORTUNITY_CONTACT_COLUMNS))]
        with _bulk_load([table for table, _columns in tables]):
            self._write(self.size.opportunities, "deals", progress, tables, make)
        for model in (Opportunity, OpportunityStageChange, OpportunityContact):
            _sync_sequence(model)
        self.counts.update(counts)
        return first_id, accounts

    # Leads -----------------------------------------------------------------------------------------

    def leads(self, first_opportunity: int, opportunity_accounts: Any, progress: bool) -> None:
        from rapport.sales.models import Lead

        world, t, rng = self.world, self.times, self.rng
        r = rng.random
        span = SALES_DAYS * 86400
        counts = {"leads": 0, "converted_leads": 0}

        def make(i: int, buffers: list[list[tuple[Any, ...]]]) -> None:
            (leads,) = buffers
            roll = r()
            status = next(name for name, share in LEAD_STATUSES if roll < share)
            roll = r()
            first = "" if roll < 0.1 else self.pick(FIRST_NAMES)
            last = "" if roll < 0.1 else self.pick(LAST_NAMES)
            company = "" if 0.1 <= roll < 0.2 else \
                f"{self.pick(COMPANY_WORDS)} {self.pick(COMPANY_KINDS)} {self.pick(SUFFIXES)}"
            created = self.now - int(r() * span)
            updated = created + int(r() * (self.now - created))
            account_id = contact_id = opportunity_id = converted_at = None
            if status == "converted" and len(opportunity_accounts):
                j = int(r() * len(opportunity_accounts))
                opportunity_id, account_id = first_opportunity + j, opportunity_accounts[j]
                start, end = world.contacts_of(account_id)
                if end > start:
                    contact_id = world.contact_ids[start + int(r() * (end - start))]
                converted_at = t.text(created + int(r() * (self.now - created)))
                counts["converted_leads"] += 1
            else:
                if status == "converted":
                    status = "qualified"
                if r() < 0.1:  # a lead about a company the directory already has
                    account_id = world.account_ids[self.account_index()]
            email = f"lead{i + 1}@prospect{i % 991}.example" if r() < 0.85 else ""
            owner = self.pick(world.user_ids)
            leads.append((
                _public_id(rng), owner, _visibility(rng), 1, t.text(created), t.text(updated), owner, None, first,
                last, company, self.pick(TITLES), email, f"+49 89 {1_000_000 + int(r() * 9_000_000)}",
                self.pick(LEAD_SOURCES), status, "", account_id, contact_id, opportunity_id, converted_at,
                fold(f"{last} {first} {company}".strip())[:300], email.strip().lower(),
            ))
            counts["leads"] += 1

        table = Lead._meta.db_table
        with _bulk_load([table]):
            self._write(self.size.leads, "leads", progress, [(table, LEAD_COLUMNS)], make)
        _sync_sequence(Lead)
        self.counts.update(counts)

    # The accounts' relationship stages ------------------------------------------------------------

    def account_stages(self, progress: bool) -> None:
        """One or two stage changes in the past year for each account with a stage; the account's
        stage_changed_on then says the day of its last one."""
        from rapport.directory.models import RelationshipStage, StageChange

        world, r = self.world, self.rng.random
        staged = [i for i, stage in enumerate(world.account_stage) if stage]
        values = list(RelationshipStage.values)
        counts = {"account_stage_changes": 0}

        def make(n: int, buffers: list[list[tuple[Any, ...]]]) -> None:
            (rows,) = buffers
            index = staged[n]
            stage, owner = world.account_stage[index], world.account_owner[index]
            start = max(world.account_created[index], self.today - 365)
            first = start + int(r() * (self.today - start + 1))
            if r() < 0.4:
                previous = self.pick([v for v in values if v != stage])
                second = first + int(r() * (self.today - first + 1))
                rows.append((world.account_ids[index], "", previous, self.day(first), owner))
                rows.append((world.account_ids[index], previous, stage, self.day(second), owner))
                counts["account_stage_changes"] += 2
            else:
                rows.append((world.account_ids[index], "", stage, self.day(first), owner))
                counts["account_stage_changes"] += 1

        table = StageChange._meta.db_table
        with _bulk_load([table]):
            self._write(len(staged), "stages", progress, [(table, ACCOUNT_STAGE_COLUMNS)], make)
        _sync_sequence(StageChange)
        accounts, changes = Account._meta.db_table, table
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {accounts} SET stage_changed_on = (SELECT MAX(s.changed_on) FROM {changes} s "  # noqa: S608
                f"WHERE s.account_id = {accounts}.id) WHERE stage <> '' AND EXISTS "
                f"(SELECT 1 FROM {changes} s WHERE s.account_id = {accounts}.id)")
        self.counts.update(counts)

    # Orders ----------------------------------------------------------------------------------------

    def orders(self, progress: bool) -> None:
        from rapport.sales.models import Order, OrderLine

        world, t, rng = self.world, self.times, self.rng
        r = rng.random
        # 40% of the accounts are customers, each with a long-tailed share of the orders.
        customers: list[int] = []
        cum: list[float] = []
        total = 0.0
        for index in range(len(world.account_ids)):
            if index != world.big_index and r() < 0.4:
                total += min(rng.paretovariate(1.3), 50.0)
                customers.append(index)
                cum.append(total)
        if not customers:
            customers, cum, total = [world.big_index], [1.0], 1.0
        first_id = _next_id(Order)
        first_day = self.today - SALES_DAYS
        orders_total = self.size.orders
        counts = {"orders": 0, "order_lines": 0, "orders_with_lines": 0}

        def customer() -> int:
            if r() < BIG_ACCOUNT_ORDERS:
                return world.big_index
            return customers[min(len(customers) - 1, bisect.bisect_right(cum, r() * total))]

        def make(i: int, buffers: list[list[tuple[Any, ...]]]) -> None:
            orders, lines = buffers
            order_id = first_id + i
            ordered = first_day + (i * (SALES_DAYS + 1)) // max(orders_total, 1)
            # A customer that existed on the day; after a few tries, its first day instead. Megacorp,
            # the oldest customer, ordered before its record was created (its history was imported).
            for _attempt in range(4):
                index = customer()
                if index == world.big_index or world.account_created[index] <= ordered:
                    break
            if index != world.big_index:
                ordered = min(max(ordered, world.account_created[index]), self.today)
            roll = r()
            if self.today - ordered < 30:
                status = "open" if roll < 0.6 else "fulfilled" if roll < 0.95 else "cancelled"
            else:
                status = "fulfilled" if roll < 0.93 else "cancelled" if roll < 0.98 else "open"
            if r() < 0.2:
                cents = 0
                for position in range(1 + int(r() * 3)):
                    product, price = self.pick(ORDER_PRODUCTS)
                    quantity = 1 + int(r() * r() * 10)
                    cents += quantity * price
                    lines.append((order_id, position, product, str(quantity), _money(price), _money(quantity * price)))
                    counts["order_lines"] += 1
                counts["orders_with_lines"] += 1
            else:
                cents = max(1_000, int(math.exp(rng.gauss(6.9, 1.1)) * 100))
            created = self.at(ordered)
            updated = created if status == "open" else min(self.now, created + int(r() * 20 * 86400))
            owner = world.account_owner[index]
            orders.append((
                order_id, _public_id(rng), owner, world.account_visibility[index], 1, t.text(created),
                t.text(updated), owner, None, world.account_ids[index], None, ORDER_NUMBER.format(i + 1),
                self.day(ordered), _money(cents), self.currency(), status, "",
            ))
            counts["orders"] += 1

        tables = [(Order._meta.db_table, ORDER_COLUMNS), (OrderLine._meta.db_table, ORDER_LINE_COLUMNS)]
        with _bulk_load([table for table, _columns in tables]):
            self._write(orders_total, "orders", progress, tables, make)
            if progress:
                sys.stderr.write("indexes    building the order indexes\n")
        for model in (Order, OrderLine):
            _sync_sequence(model)
        self.counts.update(counts)


def _order_series_above_seed() -> None:
    """The "order" counter of services.order_create: at least its start, and past any ORD-<n> number
    already taken (the seed's own B- numbers cannot collide with it)."""
    from rapport.core.models import NumberSequence
    from rapport.sales.models import Order
    from rapport.sales.services import ORDER_SERIES

    taken = 1000  # next_number's default start
    for number in Order.objects.filter(number__startswith="ORD-").values_list("number", flat=True).iterator():
        suffix = number[4:]
        if suffix.isdigit():
            taken = max(taken, int(suffix))
    sequence, _created = NumberSequence.objects.get_or_create(name=ORDER_SERIES, defaults={"last_value": taken})
    if sequence.last_value < taken:
        NumberSequence.objects.filter(pk=sequence.pk).update(last_value=taken)


def seed_sales(size_name: str, *, progress: bool = True, seed_value: int = 20261124,
               analyze: bool = True) -> dict[str, Any]:
    """Add the opportunities (with stage changes and people), leads, the accounts' stage history and
    the orders (with lines) to a database that holds the seeded users, accounts and contacts."""
    from rapport.sales.services import default_pipeline

    size = SIZES[size_name]
    rng = random.Random(seed_value + 2)  # its own stream: the directory data and activities stay as they were
    started = time.perf_counter()
    with _large_cache():
        world = _SalesWorld.load()
        if not world.account_ids or not world.user_ids:
            raise RuntimeError("seed_sales needs the seeded users and accounts; run the whole seed first.")
        stages = list(default_pipeline().stages.filter(is_active=True).order_by("position", "id"))
        maker = _SalesMaker(size, rng, world, _Times())
        first_opportunity, opportunity_accounts = maker.opportunities(stages, progress)
        maker.leads(first_opportunity, opportunity_accounts, progress)
        maker.account_stages(progress)
        maker.orders(progress)  # last: sales_seeded looks for its last order
        with transaction.atomic():
            _order_series_above_seed()
    if analyze:
        _analyze()
    return {**maker.counts, "sales_seconds": round(time.perf_counter() - started, 1)}


# --- Support: items and the requests that assigned them (issue 5) -------------------------------------
#
# Items lie on the 24 months before SEED_NOW, owned mostly by the Support users (some by managers and
# sales users who took a customer's call), on 90% of the accounts' side with one of their contacts in
# two thirds of those ("Megacorp Holding" gets 2%). A third are new (nobody asked yet; a tenth of them
# back from a declined request), 7% assigned with a request awaiting its answer, a quarter in progress
# or waiting with an accepted request, the rest resolved or closed. Open items are recent and due
# within three weeks either side of SEED_NOW (about half of the dated ones overdue); closed ones are
# older and carry closed_at. The assignee is always the recipient of the pending or accepted request;
# one in seven accepted items was passed on or declined once before. References run SUP-1001, …, and
# the "support" counter of services.support_item_create is set past them.
#
# Private copies (the owner's and assignee's tasks) are not seeded: they would add a task per holder
# to the activities, and no workload reads them; the seeded items have no history entries either.

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
SUPPORT_FIRST_NUMBER = 1001  # next_number's default start is 1000, so the services' first is SUP-1001
BIG_ACCOUNT_SUPPORT = 0.02  # of the items: its support panel is the long one (10,000 on medium)
SUPPORT_STATUSES = (("new", 0.33), ("assigned", 0.40), ("in_progress", 0.58), ("waiting", 0.65),
                    ("resolved", 0.80), ("closed", 1.0))  # cumulative
SUPPORT_PRIORITIES = (("normal", 0.55), ("high", 0.75), ("low", 0.90), ("urgent", 1.0))  # cumulative
SUPPORT_SUBJECTS = ["Cannot log in", "Invoice {n} is wrong", "Delivery late: order {n}", "Wrong item delivered",
                    "Question about the licence terms", "Password reset", "Export fails with an error",
                    "Lieferung unvollständig", "Rechnung doppelt erhalten", "Problème de facturation",
                    "Demande de formation", "Не работает синхронизация", "請求書の再発行", "Refund request",
                    "Feature request: dark mode", "Device does not start", "Support hours used up?",
                    "Contract renewal question", "Αίτημα επιστροφής", "Slow response on the portal"]
SUPPORT_DESCRIPTIONS = ["Customer called twice about this; wants a call back before noon.",
                        "Screenshot attached to the email. Happens since the last update.",
                        "Der Kunde bittet um Rückruf.", "Le client attend une réponse avant vendredi.",
                        "Клиент просит срочно перезвонить.", "", "", ""]
SUPPORT_DECLINE_REASONS = ["On holiday until the 15th", "Not my product area", "Too many open items this week",
                           "Nicht zuständig"]
NO_DUE_ORDINAL = dt.date(9999, 12, 31).toordinal()  # support.models.NO_DUE_DATE: undated items sort last
SUPPORT_ITEM_COLUMNS = [
    "id", "public_id", "owner_id", "visibility", "version", "created_at", "updated_at", "created_by_id",
    "deleted_at", "reference", "subject", "description", "category_id", "priority", "status", "due_on",
    "due_sort", "account_id", "contact_id", "opportunity_id", "assignee_id", "source", "closed_at", "returned_at",
]
SUPPORT_REQUEST_COLUMNS = [
    "id", "public_id", "item_id", "recipient_id", "requested_by_id", "previous_id", "state", "message", "reason",
    "created_at", "answered_at", "answered_by_id", "links_expire_at",
]


def support_seeded(size: str) -> bool:
    """Whether the data set has its support items: the last one the support step writes exists."""
    from rapport.support.models import SupportItem

    last = SUPPORT_FIRST_NUMBER + SIZES[size].support_items - 1
    return SupportItem.objects.filter(reference=f"SUP-{last}").exists()


def _cumulative(table: Sequence[tuple[str, float]], roll: float) -> str:
    return next(name for name, share in table if roll < share)


class _SupportMaker(_SalesMaker):
    """Builds the support items and their requests, through the sales maker's chunked writer."""

    def __init__(self, size: Size, rng: random.Random, world: _SalesWorld, times: _Times) -> None:
        super().__init__(size, rng, world, times)
        users = list(User.objects.filter(pk__in=world.user_ids).values_list("id", "team_id"))
        roles = dict(User.roles.through.objects.filter(user_id__in=world.user_ids).values_list("user_id", "role__slug"))
        self.support_ids = [uid for uid, _team in users if roles.get(uid) == "support"] or list(world.user_ids)
        self.manager_ids = [uid for uid, _team in users if roles.get(uid) == "manager"] or list(world.user_ids)
        self.sales_ids = [uid for uid, _team in users if roles.get(uid) == "sales"] or list(world.user_ids)
        self.category_ids = list(_support_categories())

    def account_index(self) -> int:
        if self.rng.random() < BIG_ACCOUNT_SUPPORT:
            return self.world.big_index
        return int(self.rng.random() * len(self.world.account_ids))

    def owner(self) -> int:
        roll = self.rng.random()
        return self.pick(self.support_ids if roll < 0.75 else self.manager_ids if roll < 0.9 else self.sales_ids)

    def handler(self, owner: int, exclude: int | None = None) -> int:
        """Who is asked: a Support user (a manager now and then), the owner itself for a third of the
        Support owners' own items; never `exclude` (the one who declined or passed it on)."""
        for _attempt in range(5):
            roll = self.rng.random()
            if roll < 0.3 and owner in self.support_ids:
                chosen = owner
            else:
                chosen = self.pick(self.support_ids if roll < 0.9 else self.manager_ids)
            if chosen != exclude:
                return chosen
        return owner if owner != exclude else self.pick(self.support_ids)

    def items(self, progress: bool) -> None:
        from rapport.support.models import SupportItem, SupportRequest

        world, t, rng = self.world, self.times, self.rng
        r = rng.random
        first_item, first_request = _next_id(SupportItem), _next_id(SupportRequest)
        next_request = [first_request]
        span = SALES_DAYS * 86400
        counts = {"support_items": 0, "support_requests": 0, "support_open": 0, "support_pending": 0,
                  "support_overdue": 0}

        def request(item_id: int, recipient: int, requested_by: int, previous: int | None, state: str,
                    asked: int, answered: int | None, reason: str = "") -> tuple[Any, ...]:
            request_id = next_request[0]
            next_request[0] += 1
            counts["support_requests"] += 1
            return (request_id, _public_id(rng), item_id, recipient, requested_by, previous, state, "", reason,
                    t.text(asked), t.text(answered), recipient if answered is not None else None,
                    t.text(asked + 7 * 86400))

        def make(i: int, buffers: list[list[tuple[Any, ...]]]) -> None:
            items, requests = buffers
            item_id = first_item + i
            status = _cumulative(SUPPORT_STATUSES, r())
            is_open = status not in ("resolved", "closed")
            owner = self.owner()
            if is_open:  # open items are recent: most of them from the last two months
                created = self.now - int(r() * r() * 120 * 86400) - 600
            else:
                created = self.now - int(60 * 86400 + r() * (span - 60 * 86400))
            created_day = _EPOCH_ORDINAL + created // 86400
            account_id = contact_id = None
            if r() < 0.9:
                index = self.account_index()
                account_id = world.account_ids[index]
                start, end = world.contacts_of(account_id)
                if end > start and r() < 0.67:
                    contact_id = world.contact_ids[start + int(r() * (end - start))]
            due = None
            if r() < 0.85:
                if is_open:
                    due = max(created_day + 1, self.today - 21 + int(r() * 43))
                else:
                    due = created_day + 3 + int(r() * 12)
            assignee = closed_at = returned_at = None
            updated = created
            if status == "new":
                if r() < 0.1:  # asked once, declined: back with its owner
                    recipient = self.handler(owner, exclude=owner)
                    asked = created + int(r() * 3600)
                    answered = min(self.now, asked + int(r() * 2 * 86400))
                    requests.append(request(item_id, recipient, owner, None, "declined", asked, answered,
                                            self.pick(SUPPORT_DECLINE_REASONS)))
                    returned_at = updated = answered
            else:
                previous = None
                asked = created + int(r() * 3600)
                if status != "assigned" and r() < 0.15:  # declined or passed on before it was accepted
                    first = self.handler(owner)
                    answered = min(self.now, asked + int(r() * 86400))
                    passed = r() < 0.5
                    previous = next_request[0]
                    requests.append(request(item_id, first, owner, None, "passed_on" if passed else "declined",
                                            asked, answered, "" if passed else self.pick(SUPPORT_DECLINE_REASONS)))
                    asked, by, exclude = answered, first if passed else owner, first
                else:
                    by, exclude = owner, None
                assignee = self.handler(owner, exclude=exclude)
                if status == "assigned":
                    answered = None
                    counts["support_pending"] += 1
                    updated = asked
                else:
                    answered = min(self.now, asked + int(r() * 86400))
                    updated = answered
                requests.append(request(item_id, assignee, by, previous,
                                        "pending" if status == "assigned" else "accepted", asked, answered))
                if not is_open:
                    closed_at = min(self.now, updated + 3600 + int(r() * 20 * 86400))
                    updated = closed_at
                elif r() < 0.5:
                    updated = updated + int(r() * (self.now - updated))
            if is_open:
                counts["support_open"] += 1
                if due is not None and due < self.today:
                    counts["support_overdue"] += 1
            subject = self.pick(SUPPORT_SUBJECTS).format(n=10_000 + int(r() * 90_000))
            roll = r()
            source = "app" if roll < 0.85 else "email" if roll < 0.97 else "api"
            category = self.pick(self.category_ids) if self.category_ids and r() < 0.9 else None
            items.append((
                item_id, _public_id(rng), owner, _visibility(rng), 1, t.text(created), t.text(updated), owner, None,
                f"SUP-{SUPPORT_FIRST_NUMBER + i}", subject, self.pick(SUPPORT_DESCRIPTIONS), category,
                _cumulative(SUPPORT_PRIORITIES, r()), status, self.day(due),
                self.day(due if due is not None else NO_DUE_ORDINAL), account_id, contact_id, None,
                assignee, source, t.text(closed_at), t.text(returned_at),
            ))
            counts["support_items"] += 1

        tables = [(SupportItem._meta.db_table, SUPPORT_ITEM_COLUMNS),
                  (SupportRequest._meta.db_table, SUPPORT_REQUEST_COLUMNS)]
        with _bulk_load([table for table, _columns in tables]):
            self._write(self.size.support_items, "support", progress, tables, make)
            if progress:
                sys.stderr.write("indexes    building the support indexes\n")
        for model in (SupportItem, SupportRequest):
            _sync_sequence(model)
        self.counts.update(counts)


def _support_categories() -> list[int]:
    from rapport.support.models import SupportCategory

    return list(SupportCategory.objects.filter(is_active=True).order_by("position", "id").values_list("id", flat=True))


def _support_series_above_seed(last_number: int) -> None:
    """The "support" counter of services.support_item_create, past the seeded references."""
    from rapport.core.models import NumberSequence
    from rapport.support.services import SUPPORT_SERIES

    sequence, _created = NumberSequence.objects.get_or_create(name=SUPPORT_SERIES,
                                                              defaults={"last_value": last_number})
    if sequence.last_value < last_number:
        NumberSequence.objects.filter(pk=sequence.pk).update(last_value=last_number)


def seed_support(size_name: str, *, progress: bool = True, seed_value: int = 20261124,
                 analyze: bool = True) -> dict[str, Any]:
    """Add the support items and their requests to a database that holds the seeded users, accounts and
    contacts, and no support items yet."""
    from rapport.support.models import SupportItem

    size = SIZES[size_name]
    if SupportItem.objects.exists():
        raise RuntimeError("seed_support fills a data set without support items; this one has some.")
    rng = random.Random(seed_value + 3)  # its own stream: the other records stay as they were
    started = time.perf_counter()
    with _large_cache():
        world = _SalesWorld.load()
        if not world.account_ids or not world.user_ids:
            raise RuntimeError("seed_support needs the seeded users and accounts; run the whole seed first.")
        maker = _SupportMaker(size, rng, world, _Times())
        maker.items(progress)
        with transaction.atomic():
            _support_series_above_seed(SUPPORT_FIRST_NUMBER + size.support_items - 1)
    if analyze:
        _analyze()
    return {**maker.counts, "support_seconds": round(time.perf_counter() - started, 1)}
