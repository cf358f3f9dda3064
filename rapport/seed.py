"""`rapport seed --size small|medium|large`: a deterministic CRM-scale data set for the benchmark.

medium ("CRM-M"): 200 users in 10 teams, 100,000 accounts, 1,000,000 contacts
(about 10 per account, skewed: one account has 5,000 contacts and one user owns
50,000 records), remarks with attributes, names with accents and non-Latin
scripts. small is a hundredth of that, large ten times medium. Activities,
orders and tasks join the data set as their features land.

Rows go in through bulk paths — COPY on PostgreSQL, large executemany
transactions on SQLite — never one ORM save per row. The same seed always
yields the same data set.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import sys
import time
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


SIZES = {
    "small": Size("small", users=20, teams=2, accounts=1_000, contacts=10_000, big_account_contacts=500,
                  heavy_owner_records=500),
    "medium": Size("medium", users=200, teams=10, accounts=100_000, contacts=1_000_000,
                   big_account_contacts=5_000, heavy_owner_records=50_000),
    "large": Size("large", users=2_000, teams=100, accounts=1_000_000, contacts=10_000_000,
                  big_account_contacts=50_000, heavy_owner_records=500_000),
}

SEED_PASSWORD = "rapport-bench"
HEAVY_USER = "bench0001"
BIG_ACCOUNT = "Megacorp Holding"

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


def _public_id(rng: random.Random) -> str:
    return base64.b32encode(rng.getrandbits(80).to_bytes(10, "big")).decode("ascii").lower()


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


def seed_exists(size: str) -> bool:
    return User.objects.filter(username=HEAVY_USER).exists() and Account.objects.filter(
        name=BIG_ACCOUNT).exists() and Account.objects.count() >= SIZES[size].accounts


def seed(size_name: str, *, progress: bool = True, seed_value: int = 20261124) -> dict[str, Any]:
    """Create the data set of the given size in the current (empty) database."""
    size = SIZES[size_name]
    rng = random.Random(seed_value)
    started = time.perf_counter()
    now = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
    with transaction.atomic():
        users = _seed_users(size, rng)
    user_ids = [u.id for u in users]
    heavy_id = users[0].id
    with transaction.atomic():
        account_ids, account_owner = _seed_accounts(size, rng, user_ids, heavy_id, now, progress)
    with transaction.atomic():
        _seed_contacts(size, rng, user_ids, heavy_id, account_ids, account_owner, now, progress)
    for model in (Account, Contact, Attribute):
        _sync_sequence(model)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    elapsed = time.perf_counter() - started
    summary = {"size": size.name, "users": len(users), "accounts": size.accounts, "contacts": size.contacts,
               "seconds": round(elapsed, 1)}
    if progress:
        sys.stderr.write(f"Seeded {size.name}: {size.accounts:,} accounts, {size.contacts:,} contacts "
                         f"in {elapsed:,.0f} s\n")
    return summary


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
