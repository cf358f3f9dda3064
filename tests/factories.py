"""Factories for every test: users in roles and teams, accounts, contacts, activities, notes, deals,
orders, leads and support items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

import factory
from django.contrib.auth.hashers import make_password
from factory.django import DjangoModelFactory

from rapport.activities import services as activity_services
from rapport.activities.models import Activity, ActivityKind, ActivityType, Note
from rapport.core.models import Role, Team, User, Visibility
from rapport.directory.models import Account, Contact

PASSWORD = "correct horse battery staple"


@cache
def password_hash() -> str:
    """PASSWORD hashed once per test process: Argon2 is slow on purpose, and every persona needs one."""
    return make_password(PASSWORD)


def role(slug: str) -> Role:
    return Role.objects.get(slug=slug)


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Tester"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.LazyFunction(password_hash)

    @factory.post_generation
    def role_slugs(self, create: bool, extracted: list[str] | str | None, **kwargs) -> None:
        """UserFactory(role_slugs="sales") or a list; default: sales."""
        if not create:
            return
        slugs = [extracted] if isinstance(extracted, str) else (extracted or ["sales"])
        self.roles.set(Role.objects.filter(slug__in=slugs))


class RecordFactory(DjangoModelFactory):
    """A business record saved directly, with its derived keys, but without services or history."""

    class Meta:
        abstract = True

    owner = factory.SubFactory(UserFactory)
    visibility = Visibility.EVERYONE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.derive()
        obj.save()
        return obj


class AccountFactory(RecordFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n:05d}")


class ContactFactory(RecordFactory):
    class Meta:
        model = Contact

    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = factory.Sequence(lambda n: f"Person{n:05d}")


def tomorrow_at(hour: int) -> dt.datetime:
    """Tomorrow at `hour`:00 UTC."""
    today = dt.datetime.now(dt.UTC).date()
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time(hour), tzinfo=dt.UTC)


# Arguments of services.activity_create that are not fields of the activity.
SERVICE_ARGUMENTS = ("actor", "assignees", "attendees", "regarding")


class ActivityFactory(DjangoModelFactory):
    """An activity made through services.activity_create, so that its assignment rows (what
    calendars and task lists read) are right, and its history is written.

    By default an event of the owner's, tomorrow 10:00-11:00 UTC, visible to everyone.
    `ActivityFactory(task=True)` makes a task due tomorrow (`due_on=` to choose the day).
    Besides the model's fields it takes `actor` (who creates it; default: the owner),
    `assignees` (default: the owner), `attendees` and `regarding` (records), as the service does.
    """

    class Meta:
        model = Activity

    class Params:
        task = factory.Trait(
            activity_type=ActivityType.TASK,
            kind=factory.LazyFunction(lambda: ActivityKind.objects.get(key="todo")),
            starts_at=None,
            ends_at=None,
            due_on=factory.LazyFunction(lambda: tomorrow_at(0).date()),
        )

    owner = factory.SubFactory(UserFactory)
    visibility = Visibility.EVERYONE
    activity_type = ActivityType.EVENT
    kind = factory.LazyFunction(lambda: ActivityKind.objects.get(key="meeting"))
    subject = factory.Sequence(lambda n: f"Activity {n:05d}")
    starts_at = factory.LazyFunction(lambda: tomorrow_at(10))
    ends_at = factory.LazyAttribute(lambda a: a.starts_at + dt.timedelta(hours=1) if a.starts_at else None)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        extra = {name: kwargs.pop(name) for name in SERVICE_ARGUMENTS if name in kwargs}
        actor = extra.pop("actor", None) or kwargs["owner"]
        data = {name: value for name, value in kwargs.items() if value is not None}
        return activity_services.activity_create(actor=actor, data=data, **extra)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        for name in SERVICE_ARGUMENTS:
            kwargs.pop(name, None)
        due_on = kwargs.pop("due_on", None)
        if due_on is not None:  # stored as the service stores a task: all day on its date
            kwargs["starts_at"] = kwargs["ends_at"] = activity_services.utc_midnight(due_on)
            kwargs["all_day"] = True
        return model_class(*args, **kwargs)


class NoteFactory(DjangoModelFactory):
    """A note made through services.note_create by its author (`owner`), about `about`
    (default: an account of the author's that everyone sees)."""

    class Meta:
        model = Note

    owner = factory.SubFactory(UserFactory)
    about = factory.SubFactory(AccountFactory, owner=factory.SelfAttribute("..owner"))
    body = factory.Sequence(lambda n: f"Note {n:05d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return activity_services.note_create(actor=kwargs["owner"], about=kwargs["about"], body=kwargs["body"])

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        about = kwargs.pop("about")
        return model_class(*args, about_type=about.record_type, about_id=about.pk, **kwargs)


def default_stage(name: str = "Prospecting") -> Any:
    from rapport.sales.models import PipelineStage

    return PipelineStage.objects.get(pipeline__is_default=True, name=name)


class OpportunityFactory(RecordFactory):
    """A deal in the default pipeline's first stage (saved directly: no stage-change row, no history)."""

    class Meta:
        model = "sales.Opportunity"

    name = factory.Sequence(lambda n: f"Deal {n:05d}")
    account = factory.SubFactory(AccountFactory)
    stage = factory.LazyFunction(default_stage)
    amount = Decimal("1000.00")
    currency = "EUR"
    probability = 10
    expected_close_on = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=30))


class OrderFactory(RecordFactory):
    class Meta:
        model = "sales.Order"

    account = factory.SubFactory(AccountFactory)
    number = factory.Sequence(lambda n: f"T-{n:06d}")
    ordered_on = factory.LazyFunction(lambda: dt.date.today())
    amount = Decimal("100.00")
    currency = "EUR"


class LeadFactory(RecordFactory):
    class Meta:
        model = "sales.Lead"

    first_name = "Lee"
    last_name = factory.Sequence(lambda n: f"Prospect{n:05d}")
    company = factory.Sequence(lambda n: f"Prospect Co {n:05d}")


class SupportItemFactory(RecordFactory):
    """A new support item saved directly: no reference series, no private copy, no history.

    Tests of the request cycle create items with support.services.support_item_create instead."""

    class Meta:
        model = "support.SupportItem"

    reference = factory.Sequence(lambda n: f"SUP-T{n:05d}")
    subject = factory.Sequence(lambda n: f"Case {n:05d}")
    account = factory.SubFactory(AccountFactory)


# --- Logged email (issue 8; rapport.mail) -----------------------------------------------------------

SAMPLE_EML = (b"From: Anna Berg <anna@example.com>\r\nTo: sales@example.net\r\nSubject: Hello\r\n"
              b"Message-ID: <sample@example.com>\r\n\r\nHello there.\r\n")


class EmailMessageFactory(RecordFactory):
    """A logged message saved directly, pending by default, with a small raw source file; no parser,
    no activity (file it with rapport.mail.services.email_file)."""

    class Meta:
        model = "mail.EmailMessage"

    message_id = factory.Sequence(lambda n: f"m{n:05d}@example.com")
    dedupe_key = factory.LazyAttribute(lambda m: m.message_id.lower() or f"sha256:{m.subject}")
    thread_key = factory.LazyAttribute(lambda m: m.message_id.lower())
    from_address = "anna@example.com"
    from_name = "Anna Berg"
    to = factory.LazyFunction(lambda: ["sales@example.net"])
    subject = factory.Sequence(lambda n: f"Message {n:05d}")
    text_body = "Hello there."
    received_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC))
    raw = factory.django.FileField(data=SAMPLE_EML, filename="message.eml")
    raw_size = len(SAMPLE_EML)
    status = "pending"
    pending_reason = "no_match"
    visibility = Visibility.PRIVATE


class EmailAttachmentFactory(DjangoModelFactory):
    class Meta:
        model = "mail.EmailAttachment"

    email = factory.SubFactory(EmailMessageFactory)
    filename = "notes.txt"
    declared_type = "text/plain"
    detected_type = "text/plain"
    file = factory.django.FileField(data=b"Some notes.\n", filename="attachment")
    size = 12


# --- Templates (issue 8; rapport.templating) ---------------------------------------------------------


class TemplateFactory(RecordFactory):
    """An email template by default (TemplateFactory(kind="letter") for a letter), saved directly: its
    texts are not checked, so a test can store what the services would refuse."""

    class Meta:
        model = "templating.Template"

    name = factory.Sequence(lambda n: f"Template {n:05d}")
    kind = "email"
    subject = "Hello {{ contact.first_name }}"
    body = "Dear {{ contact.full_name }},\n\nKind regards,\n{{ user.full_name }}"


# --- Distribution lists and campaigns (issue 8; rapport.campaigns) -----------------------------------


class DistributionListFactory(RecordFactory):
    """A static list by default; DistributionListFactory(members=[contact, ...]) puts people on it.
    A dynamic one: DistributionListFactory(kind="dynamic", criteria={"account": account.public_id})."""

    class Meta:
        model = "campaigns.DistributionList"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"List {n:05d}")
    category = "Newsletter"
    kind = "static"

    @factory.post_generation
    def members(self, create: bool, extracted: list[Any] | None, **kwargs) -> None:
        if create and extracted:
            from rapport.campaigns.models import DistributionListMember

            DistributionListMember.objects.bulk_create(
                [DistributionListMember(distribution_list=self, contact=contact) for contact in extracted])


class CampaignFactory(RecordFactory):
    """A draft campaign of a list and an email template of the same owner, 60 messages a minute."""

    class Meta:
        model = "campaigns.Campaign"

    name = factory.Sequence(lambda n: f"Campaign {n:05d}")
    distribution_list = factory.SubFactory(DistributionListFactory, owner=factory.SelfAttribute("..owner"))
    template = factory.SubFactory(TemplateFactory, owner=factory.SelfAttribute("..owner"))
    rate_per_minute = 60
