"""The demo company: eight users in their roles, two teams, 50 accounts, 200 contacts, the
activities and notes of the weeks around the day it is loaded, leads, opportunities in every
stage, a year of orders and communications registered under the example workflows, and support items
at every step of their request cycle, and a few active automation rules with the follow-ups their first
sweep made.

Loaded only by `rapport demo` (which `make run` calls the first time), never by migrations.
Records are created through the same services as the pages, so they carry history.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.activities import services as activities
from rapport.activities.models import ActivityKind
from rapport.activities.recurrence import local_datetime
from rapport.automation import services as automation
from rapport.core.models import Role, Team, User, Visibility
from rapport.directory import services as directory
from rapport.directory.merge_demo import demo_duplicates
from rapport.directory.models import RelationshipStage, StageChange
from rapport.documents.demo import demo_documents
from rapport.expenses.demo import demo_expenses
from rapport.projects.demo import demo_projects
from rapport.reports.demo import demo_reports
from rapport.sales import services as sales
from rapport.sales.models import CommunicationType, PipelineStage
from rapport.support import services as support
from rapport.support.models import RequestState, SupportCategory, SupportStatus

DEMO_USERS = [
    # username, first, last, role, team
    ("admin", "Ada", "Admin", "admin", None),
    ("manager", "Maya", "Manager", "manager", "Sales"),
    ("sales1", "Sam", "Seller", "sales", "Sales"),
    ("sales2", "Sofía", "Suárez", "sales", "Sales"),
    ("support1", "Sune", "Sørensen", "support", "Support"),
    ("support2", "Şule", "Yılmaz", "support", "Support"),
    ("marketing", "Mika", "Marketer", "marketing", "Sales"),
    ("viewer", "Vic", "Viewer", "read-only", None),
]

COMPANY_STEMS = [
    "Nordwind", "Bäckerei Müller", "Azure Fields", "Kyoto Lacquer", "Øresund Freight", "Café Lumière",
    "Granite Peak", "Blue Harbor", "Zaragoza Textil", "Helios Solar", "Ironbridge", "Lotus Garden",
    "Москва Трейд", "Maple & Pine", "Riverside Clinic", "東京システム", "Quantum Leap", "Golden Gate Foods",
    "Säge & Hobel", "Atlas Logistics", "Crescent Bay", "Evergreen", "Falcon Works", "Żabka Partners",
    "Aurora Labs",
]
SUFFIXES = ["GmbH", "Ltd", "S.A.", "Inc.", "AB", "& Co", "Group", "AG", "LLC", "SARL"]
INDUSTRIES = ["Manufacturing", "Retail", "Logistics", "Healthcare", "Software", "Food", "Energy", "Finance"]
REGIONS = ["north", "south", "east", "west"]
FIRST_NAMES = ["Anna", "Björn", "Chloé", "Dmitri", "Elif", "François", "Grete", "Hiroshi", "Inés", "Jonas",
               "Kateřina", "Lars", "Marta", "Nikolai", "Olga", "Pedro", "Renée", "Søren", "Tomás", "Ulla",
               "Wen", "Yusuf", "Zoë", "Émile"]
LAST_NAMES = ["Andersson", "Berg", "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova",
              "Jensen", "Kowalski", "Lindqvist", "Martín", "Nakamura", "O'Brien", "Petrov", "Quist", "Rossi",
              "Schmidt", "Tanaka", "Ueda", "Varga", "Weiß", "Zhang"]
TITLES = ["CEO", "Buyer", "Head of Purchasing", "Office Manager", "CTO", "Accountant", "Sales Lead", ""]


def demo_logins() -> str:
    """What `make run` prints: who can sign in, and with which password."""
    names = ", ".join(username for username, *_rest in DEMO_USERS)
    return (f"Sign in at /login/ as one of {names} with the password {settings.RAPPORT_DEMO_PASSWORD!r} "
            f"(the value of RAPPORT_DEMO_PASSWORD when the demo was loaded, if it was different).")


DEMO_EMAIL_DOMAIN = "demo.rapport.invalid"


class DemoConflict(Exception):
    """The database already has real users with the demo's names."""


def demo_exists() -> bool:
    """The demo is loaded when its users are there (recognised by their addresses, not by a name like admin)."""
    return User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").exists()


def _progress(label: str, done: int, total: int, enabled: bool) -> None:
    if not enabled:
        return
    width = 30
    filled = int(width * done / total) if total else width
    end = "\n" if done >= total else "\r"
    print(f"{label:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, flush=True)


@transaction.atomic
def load_demo(*, progress: bool = False, seed: int = 42) -> dict[str, int]:
    """Create the demo users, teams, accounts and contacts. Deterministic for a given seed."""
    rng = random.Random(seed)
    taken = list(User.objects.filter(username__in=[u[0] for u in DEMO_USERS])
                 .exclude(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").values_list("username", flat=True))
    if taken:
        # Never take over (and reset the password of) a real account that shares a demo name.
        raise DemoConflict(f"Users named {', '.join(sorted(taken))} exist and are not demo users; "
                           "the demo company is meant for an empty database.")
    password = settings.RAPPORT_DEMO_PASSWORD
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in ("Sales", "Support")}
    roles = {role.slug: role for role in Role.objects.all()}
    users: dict[str, User] = {}
    for username, first, last, role, team in DEMO_USERS:
        user, _created = User.objects.get_or_create(username=username, defaults={
            "first_name": first, "last_name": last, "email": f"{username}@{DEMO_EMAIL_DOMAIN}",
            "team": teams[team] if team else None, "time_zone": "Europe/Berlin",
            "is_staff": username == "admin", "is_superuser": username == "admin",
        })
        user.set_password(password)
        user.save()
        user.roles.set([roles[role]])
        users[username] = user
    for team in teams.values():
        team.manager = users["manager"]
        team.save()

    owners = [users[name] for name in ("sales1", "sales2", "manager", "support1", "marketing")]
    accounts = []
    total_accounts = 50
    for index in range(total_accounts):
        stem = COMPANY_STEMS[index % len(COMPANY_STEMS)]
        name = f"{stem} {SUFFIXES[(index * 7) % len(SUFFIXES)]}" if index >= len(COMPANY_STEMS) else stem
        slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:20] or f"company{index}"
        stage = rng.choice([*RelationshipStage.values, ""])
        remarks = f"Customer since {2015 + index % 10}. region={rng.choice(REGIONS)}"
        if stage:
            remarks += f" stage={stage}"
        if index % 5 == 0:
            remarks += " tier=gold"
        owner = rng.choice(owners)
        account = directory.account_create(
            actor=users["admin"],
            data={
                "name": name, "website": f"https://www.{slug}{index}.example", "industry": rng.choice(INDUSTRIES),
                "email": f"info@{slug}{index}.example", "phone": f"+49 30 {rng.randint(1000000, 9999999)}",
                "stage": stage, "remarks": remarks, "owner": owner,
                "visibility": Visibility.PRIVATE if index % 10 == 9 else Visibility.EVERYONE,
            },
            addresses=[{"kind": "main", "street": f"{rng.randint(1, 200)} Market Street",
                        "postal_code": f"{rng.randint(10000, 99999)}", "city": rng.choice(
                            ["Berlin", "Malmö", "Lyon", "Kraków", "Osaka", "Porto"]), "country": "DE"}],
            confirm_duplicate=True,
        )
        accounts.append(account)
        _progress("accounts", index + 1, total_accounts, progress)

    total_contacts = 200
    contacts = []
    for index in range(total_contacts):
        account = accounts[index % total_accounts]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email_local = "".join(ch for ch in f"{first}.{last}".lower() if ch.isascii() and (ch.isalnum() or ch == "."))
        contact = directory.contact_create(
            actor=users["admin"],
            data={
                "first_name": first, "last_name": last, "title": rng.choice(TITLES), "account": account,
                "email": f"{email_local}{index}@{account.website_key or 'example.com'}",
                "phone": f"+49 40 {rng.randint(1000000, 9999999)}",
                "remarks": f"Prefers {rng.choice(['email', 'phone', 'visits'])}. "
                           f"region={rng.choice(REGIONS)} stage={rng.choice(RelationshipStage.values)}",
                "owner": account.owner, "visibility": account.visibility,
            },
            confirm_duplicate=True,
        )
        contacts.append(contact)
        _progress("contacts", index + 1, total_contacts, progress)
    counts = _demo_activities(rng, users, accounts, progress=progress)
    counts.update(_demo_sales(rng, users, accounts, contacts, progress=progress))
    counts.update(_demo_support(rng, users, contacts))
    counts.update(_demo_automation(users, teams))
    counts.update(_demo_mail(users, contacts))
    counts.update(demo_duplicates(users))
    counts.update(demo_reports(users))
    counts.update(demo_projects(users))
    counts.update(demo_documents(users))
    counts.update(demo_expenses(users))
    if progress:
        print("Demo company loaded.")
        print(demo_logins())
    return {"users": len(users), "accounts": total_accounts, "contacts": total_contacts, **counts}


MEETING_SUBJECTS = ["Quarterly review", "Product demo", "Contract talk", "Site visit", "Kick-off", "Renewal meeting"]
CALL_SUBJECTS = ["Follow-up call", "Check in on the delivery", "Call about the quote", "Introductory call"]
TASK_SUBJECTS = ["Send the offer", "Prepare the quarterly figures", "Send the welcome package",
                 "Update the contact list", "Answer the price question", "Book the trade fair booth"]
NOTE_TEXTS = ["Prefers calls before 10.", "Budget decision moves to the next quarter.",
              "Asked for references in their industry.", "Very happy with the last delivery."]


def _demo_activities(rng: random.Random, users: dict[str, User], accounts: list, *, progress: bool) -> dict[str, int]:
    """Meetings, calls and tasks of the weeks around today, a weekly team meeting and notes, so that
    My Home and the calendar show a working week the moment the demo is loaded."""
    admin = users["admin"]
    kinds = {kind.key: kind for kind in ActivityKind.objects.all()}
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    zone = "Europe/Berlin"
    made = 0
    activities.activity_create(actor=admin, data={
        "activity_type": "event", "kind": kinds["meeting"], "subject": "Sales team meeting",
        "starts_at": local_datetime(monday - dt.timedelta(weeks=4), dt.time(9, 0), zone),
        "ends_at": local_datetime(monday - dt.timedelta(weeks=4), dt.time(9, 30), zone),
        "rrule": "FREQ=WEEKLY;BYDAY=MO", "time_zone": zone, "owner": users["manager"], "location": "Room 2",
    }, assignees=[users[name] for name in ("manager", "sales1", "sales2", "marketing")])
    made += 1
    people = [users[name] for name in ("sales1", "sales2", "manager", "support1", "marketing")]
    for person in people:
        own = [account for account in accounts if account.owner_id == person.pk] or accounts
        for index in range(24):
            day = monday + dt.timedelta(days=rng.randint(-21, 27))
            if day.weekday() >= 5:
                day -= dt.timedelta(days=2)
            start = local_datetime(day, dt.time(rng.choice([9, 10, 11, 13, 14, 15, 16]), rng.choice([0, 30])), zone)
            is_call = index % 3 == 0
            account = rng.choice(own)
            done = day < today and rng.random() < .8
            activities.activity_create(actor=admin, data={
                "activity_type": "event", "kind": kinds["call" if is_call else "meeting"],
                "subject": f"{rng.choice(CALL_SUBJECTS if is_call else MEETING_SUBJECTS)}: {account.name}",
                "starts_at": start, "ends_at": start + dt.timedelta(minutes=30 if is_call else 60),
                "time_zone": zone, "owner": person, "status": "completed" if done else "open",
                "reminder_minutes": 30 if not done else None,
                "visibility": Visibility.PRIVATE if index == 5 else Visibility.EVERYONE,
                "location": "" if is_call else account.name,
            }, regarding=[account])
            made += 1
        for index in range(8):
            account = rng.choice(own)
            activities.activity_create(actor=admin, data={
                "activity_type": "task", "kind": kinds["todo"],
                "subject": f"{rng.choice(TASK_SUBJECTS)}: {account.name}",
                "due_on": today + dt.timedelta(days=rng.randint(-6, 14)), "owner": person,
                "status": "pending" if index == 3 else "open", "priority": "high" if index == 0 else "normal",
            }, regarding=[account])
            made += 1
        _progress("activities", people.index(person) + 1, len(people), progress)
    notes = 0
    for account in accounts[:20]:
        author = account.owner if account.owner.is_active else admin
        activities.note_create(actor=author, about=account, body=rng.choice(NOTE_TEXTS))
        notes += 1
    return {"activities": made, "notes": notes}


PRODUCTS = [("Starter licence", "490.00"), ("Team licence", "1890.00"), ("Support hours (10)", "950.00"),
            ("Training day", "1200.00"), ("Hardware kit", "349.90"), ("Installation", "600.00")]
DEAL_NAMES = ["Licence renewal", "Expansion", "New site roll-out", "Support contract", "Training package",
              "Pilot project", "Upgrade"]
LEAD_SOURCES = ["Trade fair", "Website", "Referral", "Cold call", "Newsletter"]


def _demo_sales(rng: random.Random, users: dict[str, User], accounts: list, contacts: list, *,
                progress: bool) -> dict[str, int]:
    """Opportunities in every stage of the default pipeline, a year of orders, leads (a few
    converted) and communications under the example workflows, so that the board, the forecast,
    the account pages and the relationship cycle have something to show."""
    admin = users["admin"]
    today = timezone.localdate()
    sellers = [users[name] for name in ("sales1", "sales2", "manager")]
    stages = list(PipelineStage.objects.filter(pipeline__is_default=True).order_by("position"))
    people = {account.pk: [c for c in contacts if c.account_id == account.pk] for account in accounts}
    opportunities = 0
    for index in range(42):
        account = accounts[(index * 7) % len(accounts)]
        stage = stages[index % len(stages)]
        owner = account.owner if account.owner in sellers else rng.choice(sellers)
        close = today + dt.timedelta(days=rng.randint(-20, 200)) if not stage.is_closed \
            else today - dt.timedelta(days=rng.randint(1, 80))
        opportunity = sales.opportunity_create(actor=admin, data={
            "name": f"{rng.choice(DEAL_NAMES)}: {account.name}", "account": account, "stage": stages[0],
            "amount": f"{rng.randint(5, 400) * 250}.00", "currency": "EUR" if index % 9 else "USD",
            "expected_close_on": close, "source": rng.choice(LEAD_SOURCES), "owner": owner,
            "next_step": "" if stage.is_closed else rng.choice(["Send the offer", "Book a demo", "Call the buyer"]),
            "visibility": account.visibility,
        }, contacts=[(c, rng.choice(["Decision maker", "Champion", "User", ""])) for c in people[account.pk][:2]])
        if stage != stages[0]:
            reason = {"won": "Best price and support", "lost": "Chose a competitor"}.get(stage.outcome, "")
            sales.opportunity_update(actor=admin, opportunity=opportunity, version=opportunity.version,
                                     data={"stage": stage, "outcome_reason": reason})
        opportunities += 1
    _progress("deals", 1, 1, progress)

    orders = 0
    for index in range(120):
        account = accounts[(index * 3) % len(accounts)]
        lines = [{"product": product, "quantity": str(rng.randint(1, 5)), "unit_price": price}
                 for product, price in rng.sample(PRODUCTS, rng.randint(1, 3))]
        ordered_on = today - dt.timedelta(days=rng.randint(0, 364))
        status = "fulfilled" if ordered_on < today - dt.timedelta(days=14) else "open"
        if index % 17 == 0:
            status = "cancelled"
        sales.order_create(actor=admin, data={
            "account": account, "ordered_on": ordered_on, "status": status, "owner": account.owner,
            "visibility": account.visibility}, lines=lines)
        orders += 1
    _progress("orders", 1, 1, progress)

    leads = 0
    for index in range(12):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = f"{rng.choice(['Nova', 'Brightline', 'Kestrel', 'Polaris', 'Tidewater'])} {SUFFIXES[index % 10]}"
        lead = sales.lead_create(actor=admin, data={
            "first_name": first, "last_name": last, "company": company, "title": rng.choice(TITLES),
            "email": f"contact{index}@lead{index}.example", "source": rng.choice(LEAD_SOURCES),
            "status": ["new", "contacted", "qualified", "unqualified"][index % 4],
            "owner": rng.choice(sellers)})
        if index in (2, 6):
            sales.lead_convert(actor=admin, lead=lead, version=lead.version,
                               opportunity_data={"amount": "12000.00", "expected_close_on": today
                                                 + dt.timedelta(days=60)})
        leads += 1

    branches = list(CommunicationType.objects.filter(parent__isnull=False, workflow__is_active=True))
    communications = 0
    for index, account in enumerate(accounts[:15]):
        contact = people[account.pk][0] if people[account.pk] else None
        for offset in range(2):
            day = today - dt.timedelta(days=rng.randint(1, 120))
            start = local_datetime(day, dt.time(10, 0), "Europe/Berlin")
            sales.communication_register(
                actor=admin, account=account, contact=contact, communication_type=branches[(index + offset)
                                                                                           % len(branches)],
                data={"activity_type": "event", "starts_at": start, "ends_at": start + dt.timedelta(hours=1),
                      "status": "completed", "owner": account.owner, "visibility": account.visibility})
            communications += 1

    # The accounts' stages were all set today; spread them over the past year, as a real history would be.
    for change in StageChange.objects.filter(account__in=accounts):
        change.changed_on = today - dt.timedelta(days=rng.randint(0, 360))
        change.save(update_fields=["changed_on"])
    return {"opportunities": opportunities, "orders": orders, "leads": leads, "communications": communications}


SUPPORT_SUBJECTS = ["Printer driver fails after update", "Invoice shows the wrong VAT", "Delivery arrived damaged",
                    "How do I export my data?", "Login page times out", "Spare parts for model X200",
                    "Wrong address on the delivery note", "Request for a training session"]


def _demo_support(rng: random.Random, users: dict[str, User], contacts: list) -> dict[str, int]:
    """Support items at every step: new, waiting for support2's answer (so that signing in as support2
    shows a request to answer), accepted, declined back to support1, waiting on the customer, resolved."""
    today = timezone.localdate()
    categories = list(SupportCategory.objects.filter(is_active=True))
    first, second = users["support1"], users["support2"]
    plan = ["new", "pending", "pending", "accepted", "accepted", "declined", "waiting", "resolved", "closed",
            "new", "pending", "accepted"]
    for index, step in enumerate(plan):
        contact = contacts[(index * 11) % len(contacts)]
        owner = first if index % 3 else users["sales1"]
        item = support.support_item_create(actor=owner, data={
            "subject": SUPPORT_SUBJECTS[index % len(SUPPORT_SUBJECTS)], "contact": contact,
            "description": "The customer called about this; details in the notes.",
            "category": categories[index % len(categories)] if categories else None,
            "priority": ["normal", "high", "low", "urgent"][index % 4],
            "due_on": today + dt.timedelta(days=rng.randint(-5, 14)),
            "visibility": contact.visibility,
        })
        if step == "new":
            continue
        request = support.support_assign(actor=owner, item=item, recipient=second if owner == first else first,
                                         message="Can you take this one?")
        if step == "pending":
            continue
        if step == "declined":
            support.support_decline(actor=request.recipient, request=request,
                                    reason="I am out of the office this week.")
            continue
        if request.state == RequestState.PENDING:
            support.support_accept(actor=request.recipient, request=request)
        item.refresh_from_db()
        status = {"waiting": SupportStatus.WAITING, "resolved": SupportStatus.RESOLVED,
                  "closed": SupportStatus.CLOSED}.get(step)
        if status:
            support.support_item_update(actor=request.recipient, item=item, data={"status": status},
                                        version=item.version)
    return {"support items": len(plan)}


DEMO_DEFINITIONS = [
    {"name": "Welcome package",
     "contact_message": "Send the new customer our welcome package: the price list, the catalogue and a "
                        "hand-signed card.",
     "pending_message": "The package is on its way; check that it arrived.",
     "complete_message": "The customer has the package.",
     "instructions": "Packages are on the shelf by the door. Note the courier's tracking number here when you "
                     "set the follow-up Pending."},
    {"name": "Call about the next order",
     "contact_message": "Call the buyer: ask how the last order went and what they will need next.",
     "pending_message": "Waiting to hear back from the buyer.",
     "complete_message": "Called; the next order is agreed or the account's plans are noted.",
     "instructions": "Look at the account's orders before the call. If they have stopped buying, ask why and "
                     "write it in a note."},
    {"name": "Quarterly check-in",
     "contact_message": "Check in with the account: how is it going, what is coming up?",
     "pending_message": "A meeting is booked; waiting for it.",
     "complete_message": "Checked in; notes are on the account.",
     "instructions": "A short call or visit is enough. Update the account's stage if it has changed."},
]


def _demo_automation(users: dict[str, User], teams: dict[str, Team]) -> dict[str, int]:
    """Three task definitions and three active rules (the two examples of the product documents and a
    recurring check-in), then one sweep, so that sales1 and the others find follow-ups in My Current Tasks."""
    manager = users["manager"]
    definitions = {data["name"]: automation.definition_save(actor=manager, definition=None, data=data)
                   for data in DEMO_DEFINITIONS}
    today = timezone.localdate()
    rules = [
        {"name": "New customer: send the welcome package", "definition": definitions["Welcome package"],
         "description": "Whenever an account is created, Support sends the welcome package (the team takes "
                        "turns).", "trigger": "created", "record_type": "account", "due_in_days": 3,
         "assign_to": "team", "assign_team": teams["Support"], "time_zone": "Europe/Berlin"},
        {"name": "No order in 60 days: call", "definition": definitions["Call about the next order"],
         "description": "An account with no order for two months: its owner calls.", "trigger": "inactivity",
         "record_type": "account", "inactivity_of": "order", "days": 60, "due_in_days": 2, "assign_to": "owner",
         "time_zone": "Europe/Berlin"},
        {"name": "Every first Monday: check in with each Mature account",
         "definition": definitions["Quarterly check-in"],
         "description": "On the first Monday of each month, the owner of each Mature account checks in.",
         "trigger": "recurrence", "record_type": "account", "rrule": "FREQ=MONTHLY;BYDAY=1MO",
         "starts_on": today.replace(day=1) - dt.timedelta(days=90), "condition": {"stage": "mature"},
         "due_in_days": 5, "assign_to": "owner", "time_zone": "Europe/Berlin"},
    ]
    for data in rules:
        automation.rule_activate(actor=manager, rule=automation.rule_save(actor=manager, rule=None, data=data))
    made = automation.sweep_rules(today=today)
    return {"task definitions": len(definitions), "rules": len(rules), "follow-ups": sum(made.values())}


DEMO_TEMPLATES = [
    {"name": "Welcome to our customers", "kind": "email", "description": "Sent to new customers' buyers.",
     "subject": "Welcome, {{ account.name }}",
     "body": "Dear {{ contact.first_name }},\n\nthank you for choosing us. Your price list and catalogue are on "
             "their way to {{ account.name }}.\n\n{{ user.signature }}\n\nNo more of these: {{ unsubscribe_url }}"},
    {"name": "Spring newsletter", "kind": "email", "description": "The season's news for everyone on the list.",
     "subject": "Spring news for {{ contact.full_name }}",
     "body": "Hello {{ contact.first_name }},\n\nthe spring range is in, and our trade fair booth is number 42."
             "\n\nBest regards,\n{{ user.full_name }}"},
    {"name": "Price list letter", "kind": "letter", "description": "A printed letter with the new price list.",
     "subject": "",
     "body": "Dear {{ contact.full_name }},\n\nplease find enclosed our price list for the coming year. "
             "{{ account.name }} keeps its current discount.\n\nKind regards,\n{{ user.signature }}"},
]


def _demo_raw_mail(*, sender: str, sender_name: str, to: str, subject: str, body: str, number: int,
                   when: dt.datetime, cc: str = "") -> bytes:
    from email.message import EmailMessage as MimeMessage
    from email.utils import format_datetime, formataddr

    message = MimeMessage()
    message["From"] = formataddr((sender_name, sender))
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = f"<demo-{number}@{DEMO_EMAIL_DOMAIN}>"
    message.set_content(body)
    return message.as_bytes()


def _demo_mail(users: dict[str, User], contacts: list) -> dict[str, int]:
    """Signatures, templates, two distribution lists and a draft campaign (marketing's), and mail
    logged through sales1's logging address: filed to the sender's contact, or pending (an unknown
    sender; a message to people of two companies) on sales1's My Home."""
    from rapport.campaigns import services as campaigns
    from rapport.mail.intake import log_message
    from rapport.mail.selectors import logging_address
    from rapport.templating import services as templating

    for user in users.values():
        user.signature = f"{user.get_full_name()}\nNordlicht Trading · +49 30 1234567"
        user.save(update_fields=["signature"])
    marketing, seller = users["marketing"], users["sales1"]
    templates = {data["name"]: templating.template_create(actor=marketing, data=data) for data in DEMO_TEMPLATES}
    visible = [contact for contact in contacts if contact.visibility == Visibility.EVERYONE]
    newsletter = campaigns.distribution_list_create(actor=marketing, data={
        "name": "Newsletter", "category": "Marketing", "kind": "static",
        "description": "People who asked for the seasonal newsletter."})
    campaigns.list_members_add(actor=marketing, distribution_list=newsletter, contacts=visible[:40])
    key_people = campaigns.distribution_list_create(actor=seller, data={
        "name": "Key people", "category": "Customer relationship", "kind": "static",
        "description": "Buyers and decision makers we call first."})
    campaigns.list_members_add(actor=seller, distribution_list=key_people, contacts=visible[::9][:12])
    campaigns.distribution_list_create(actor=marketing, data={
        "name": "Region north", "category": "Marketing", "kind": "dynamic", "criteria": {"attr": ["region:north"]},
        "description": "Every contact whose remarks say region=north."})
    campaigns.campaign_create(actor=marketing, data={
        "name": "Spring newsletter 2027", "distribution_list": newsletter,
        "template": templates["Spring newsletter"], "rate_per_minute": 60})

    address = logging_address(seller)
    now = timezone.now().replace(microsecond=0)
    seller_contacts = [contact for contact in visible if contact.email][:6]
    messages = [
        {"sender": contact.email, "sender_name": contact.full_name, "to": seller.email,
         "subject": subject, "body": f"Hello {seller.first_name},\n\n{text}\n\n{contact.full_name}"}
        for contact, subject, text in zip(seller_contacts, [
            "Question about the last delivery", "Our order for next month", "Re: Your offer",
            "Meeting next week", "Invoice 2026-118", "Thanks for the visit"], [
            "two boxes were missing from the last delivery. Could you check?",
            "we will need about the same as last month, plus ten cases of the new range.",
            "the offer looks good; we need a week to decide.",
            "could we move our meeting to Thursday afternoon?",
            "the invoice shows the old discount. Please send a corrected one.",
            "thank you for coming by; the samples were a hit with the team."], strict=False)
    ]
    messages += [
        {"sender": "jana.novak@newprospect.example", "sender_name": "Jana Novák", "to": seller.email,
         "subject": "Catalogue request", "body": "Hello,\n\nplease send us your catalogue.\n\nJana Novák"},
        {"sender": seller.email, "sender_name": seller.get_full_name(),
         "to": ", ".join(contact.email for contact in (seller_contacts[0], seller_contacts[3])),
         "subject": "Trade fair invitation", "body": "Dear both,\n\nyou are invited to our booth at the fair."},
    ]
    for number, message in enumerate(messages):
        raw = _demo_raw_mail(number=number, when=now - dt.timedelta(days=len(messages) - number, hours=number),
                             **message)
        log_message(raw, recipients=[address], source="smtp")
    return {"templates": len(templates), "distribution lists": 3, "campaigns": 1, "logged email": len(messages)}
