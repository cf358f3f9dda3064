"""The data the matrix runs on, its HTTP clients, and snapshots of the database.

The `Cast` is built once per test module, inside a transaction that is rolled
back at the end (tests/test_permission_matrix.py, fixture `cast`); each test
runs in a savepoint inside it, as Django's TestCase.setUpTestData does. It holds
the personas of tests/conftest.py (built the same way, checked against rules.py
by tests/permissions/test_personas.py), a signed-in session and an API token
per persona, and the "subjects" routes act on: for each visibility, records
owned by `owner`; a token of the owner's; a user, a team and a role.

A `World` is one case's view of the cast: its visibility picks the subject.
A new record type adds a builder to RECORD_SUBJECTS.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.db.models.query import FlatValuesListIterable, ValuesListIterable
from django.test import Client
from django.test.client import ClientHandler

from rapport.activities import services as activities
from rapport.activities.models import (
    Activity,
    ActivityAssignee,
    ActivityException,
    ActivityKind,
    ActivityLink,
    CalendarFeed,
    Note,
)
from rapport.automation.models import FollowUp, Override, OverrideMove, Rule, TaskDefinition
from rapport.core.access import forget_access
from rapport.core.models import ApiToken, HistoryEntry, Role, RolePermission, Team, User
from rapport.core.services import token_create
from rapport.directory import services as directory
from rapport.directory.models import Account, Address, Attribute, Contact, StageChange
from rapport.mail.models import OutboxMessage, OutboxStatus
from rapport.mail.services import queue_email
from rapport.sales import services as sales
from rapport.sales.models import (
    Communication,
    CommunicationType,
    Lead,
    Opportunity,
    OpportunityContact,
    OpportunityStageChange,
    Order,
    OrderLine,
    Pipeline,
    PipelineStage,
    WorkflowDefinition,
)
from rapport.support import services as support
from rapport.support.models import PrivateCopy, SupportItem, SupportRequest
from tests.conftest import Personas, build_personas
from tests.permissions.rules import VISIBILITIES

# One request handler for every client of the process: a new Client loads the middleware again,
# and WhiteNoise then indexes every static file, which costs more than the request itself.
_HANDLERS = {False: ClientHandler(enforce_csrf_checks=False), True: ClientHandler(enforce_csrf_checks=True)}


def new_client(*, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.handler = _HANDLERS[enforce_csrf]
    return client


def describe_personas(personas: Personas) -> dict[str, tuple]:
    """What rules.persona_facts states, read from the database (team "A" is "Team A")."""
    def short(team: Any) -> str | None:
        return team.name.removeprefix("Team ") if team is not None else None

    return {
        name: (
            sorted(user.roles.values_list("slug", flat=True)),
            short(user.team),
            sorted(short(team) for team in user.managed_teams.all()),
            user.is_superuser or user.is_staff,
        )
        for name, user in personas.all().items()
    }


# --- Subjects ------------------------------------------------------------------------------------


def _account(personas: Personas, visibility: str, *, deleted: bool = False) -> Account:
    owner = personas.owner
    account = directory.account_create(
        actor=owner,
        data={"name": f"Subject account {visibility}{' gone' if deleted else ''}", "industry": "Tools",
              "visibility": visibility, "remarks": "region=north"},
        addresses=[{"city": "Oslo"}],
    )
    if deleted:
        directory.account_delete(actor=owner, account=account)
    return Account.objects.get(pk=account.pk)


def _contact(personas: Personas, visibility: str, *, deleted: bool = False) -> Contact:
    owner = personas.owner
    contact = directory.contact_create(
        actor=owner,
        data={"first_name": "Pat", "last_name": f"Subject {visibility}{' gone' if deleted else ''}",
              "title": "Buyer", "visibility": visibility, "remarks": "region=north"},
        addresses=[{"city": "Oslo"}],
    )
    if deleted:
        directory.contact_delete(actor=owner, contact=contact)
    return Contact.objects.get(pk=contact.pk)


def _activity(personas: Personas, visibility: str, *, deleted: bool = False) -> Activity:
    """A weekly meeting of the owner's (so that occurrence routes have an occurrence to act on)."""
    owner = personas.owner
    start = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    activity = activities.activity_create(
        actor=owner,
        data={"activity_type": "event", "kind": ActivityKind.objects.get(key="meeting"),
              "subject": f"Subject meeting {visibility}{' gone' if deleted else ''}", "starts_at": start,
              "ends_at": start + dt.timedelta(hours=1), "rrule": "FREQ=WEEKLY;COUNT=10", "visibility": visibility},
    )
    if deleted:
        activities.activity_delete(actor=owner, activity=activity)
    return Activity.objects.get(pk=activity.pk)


def _note(personas: Personas, visibility: str, *, deleted: bool = False) -> Note:
    """A note of the owner's on an account everyone sees: a note is always the team's, whatever `visibility`."""
    owner = personas.owner
    about = directory.account_create(actor=owner, confirm_duplicate=True,
                                     data={"name": f"Noted account {visibility}", "visibility": "everyone"})
    note = activities.note_create(actor=owner, about=about, body=f"Subject note {visibility}")
    if deleted:
        activities.note_delete(actor=owner, note=note)
    return Note.objects.get(pk=note.pk)


def _customer(personas: Personas, label: str) -> Account:
    """An account everyone sees, for a deal or an order (the subject's own visibility is what is tested)."""
    return directory.account_create(actor=personas.owner, confirm_duplicate=True,
                                    data={"name": f"Customer of {label}", "visibility": "everyone"})


def _lead(personas: Personas, visibility: str, *, deleted: bool = False) -> Lead:
    owner = personas.owner
    lead = sales.lead_create(actor=owner, data={
        "first_name": "Lee", "last_name": f"Subject lead {visibility}{' gone' if deleted else ''}",
        "company": f"Lead Co {visibility}", "source": "Fair", "visibility": visibility})
    if deleted:
        sales.lead_delete(actor=owner, lead=lead)
    return Lead.objects.get(pk=lead.pk)


def _opportunity(personas: Personas, visibility: str, *, deleted: bool = False) -> Opportunity:
    owner = personas.owner
    opportunity = sales.opportunity_create(actor=owner, data={
        "name": f"Subject deal {visibility}{' gone' if deleted else ''}", "amount": "1000",
        "account": _customer(personas, f"deal {visibility}{deleted}"), "expected_close_on": dt.date(2027, 1, 15),
        "visibility": visibility})
    if deleted:
        sales.opportunity_delete(actor=owner, opportunity=opportunity)
    return Opportunity.objects.get(pk=opportunity.pk)


def _order(personas: Personas, visibility: str, *, deleted: bool = False) -> Order:
    owner = personas.owner
    order = sales.order_create(actor=owner, data={
        "account": _customer(personas, f"order {visibility}{deleted}"), "ordered_on": dt.date(2026, 11, 2),
        "visibility": visibility}, lines=[{"product": "Subject widget", "quantity": "2", "unit_price": "50"}])
    if deleted:
        sales.order_delete(actor=owner, order=order)
    return Order.objects.get(pk=order.pk)


def _support_item(personas: Personas, visibility: str, *, deleted: bool = False) -> SupportItem:
    owner = personas.owner
    item = support.support_item_create(actor=owner, data={
        "subject": f"Subject case {visibility}{' gone' if deleted else ''}",
        "account": _customer(personas, f"case {visibility}{deleted}"), "visibility": visibility})
    if deleted:
        support.support_item_delete(actor=owner, item=item)
    return SupportItem.objects.get(pk=item.pk)


# Business records owned by `owner`, one per visibility.
RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {
    "account": _account,
    "deleted account": lambda p, v: _account(p, v, deleted=True),
    "contact": _contact,
    "deleted contact": lambda p, v: _contact(p, v, deleted=True),
    "activity": _activity,
    "deleted activity": lambda p, v: _activity(p, v, deleted=True),
    "note": _note,
    "deleted note": lambda p, v: _note(p, v, deleted=True),
    "lead": _lead,
    "deleted lead": lambda p, v: _lead(p, v, deleted=True),
    "opportunity": _opportunity,
    "deleted opportunity": lambda p, v: _opportunity(p, v, deleted=True),
    "order": _order,
    "deleted order": lambda p, v: _order(p, v, deleted=True),
    "support item": _support_item,
    "deleted support item": lambda p, v: _support_item(p, v, deleted=True),
}
def _request_to_teammate(personas: Personas) -> SupportRequest:
    """A support request from `owner` to `teammate`, waiting for the answer (the answer links name it)."""
    item = support.support_item_create(actor=personas.owner, data={"subject": "Matrix request case",
                                                                   "visibility": "everyone"})
    return support.support_assign(actor=personas.owner, item=item, recipient=personas.teammate)


def _failed_message(personas: Personas) -> OutboxMessage:
    message = queue_email(to=["customer@example.com"], subject="Matrix mail", body="Text", kind="matrix")
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.FAILED, attempts=8,
                                                       last_error="SMTPConnectError: down")
    message.refresh_from_db()
    return message


_AUTOMATION: dict[int, dict[str, Any]] = {}


def _automation(personas: Personas) -> dict[str, Any]:
    """A task definition, an active rule, a follow-up of it for `owner` (a team task), and an override of
    the teammate's follow-ups, all made by the manager (who manages team A); built once per cast."""
    from rapport.automation import services as automation

    if id(personas) in _AUTOMATION:
        return _AUTOMATION[id(personas)]
    manager = personas.manager
    definition = automation.definition_save(actor=manager, definition=None, data={
        "name": "Matrix welcome", "contact_message": "Send the welcome package."})
    rule = automation.rule_save(actor=manager, rule=None, data={
        "name": "Matrix new accounts", "definition": definition, "trigger": "created", "record_type": "account",
        "assign_to": "owner"})
    automation.rule_activate(actor=manager, rule=rule)
    account = _customer(personas, "follow-up")
    automation.create_follow_ups(rule, [automation.Match(account.pk, personas.owner.pk, "created")])
    override = automation.override_create(actor=manager, absent=personas.teammate, starts_on=dt.date(2026, 1, 1),
                                          ends_on=dt.date(2026, 1, 31), to_user=personas.owner)
    built = {"definition": definition, "rule": rule, "follow_up": rule.follow_ups.get(), "override": override}
    _AUTOMATION[id(personas)] = built
    return built


# Everything else a URL can name.
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {
    "owner's token": lambda p: token_create(user=p.owner, name="Owner's script").token,
    "user": lambda p: p.teammate,
    "team": lambda p: p.owner.team,
    "role": lambda p: Role.objects.get(slug="sales"),
    # Configuration every user reads and only administrators change.
    "stage": lambda p: PipelineStage.objects.get(name="Proposal"),
    "workflow": lambda p: WorkflowDefinition.objects.get(name="Customer Relationship"),
    "support request to teammate": _request_to_teammate,
    "outbox message": _failed_message,
    "task definition": lambda p: _automation(p)["definition"],
    "rule": lambda p: _automation(p)["rule"],
    "follow up": lambda p: _automation(p)["follow_up"],
    "override": lambda p: _automation(p)["override"],
}

# The mail, template and campaign subjects live in their own modules (one per feature team).
from tests.permissions import (  # noqa: E402
    world_campaigns,
    world_documents,
    world_emails,
    world_expenses,
    world_exports,
    world_imports,
    world_merge,
    world_projects,
    world_reports,
    world_search,
    world_sync,
    world_templating,
)

FEATURE_WORLDS = (world_emails, world_templating, world_campaigns, world_search, world_imports, world_exports,
                  world_reports, world_merge, world_documents, world_projects, world_expenses, world_sync)

for _module in FEATURE_WORLDS:
    RECORD_SUBJECTS.update(_module.RECORD_SUBJECTS)
    OTHER_SUBJECTS.update(_module.OTHER_SUBJECTS)


@dataclass
class Cast:
    personas: Personas
    subjects: dict[tuple[str, str | None], Any]
    sessions: dict[str, str]  # persona -> session cookie value
    tokens: dict[str, str]  # persona -> API token

    def records(self, kind: str) -> list[tuple[str, str, Any, bool]]:
        """The business records of the cast: (owner persona, visibility, record, deleted); with the
        accounts everyone sees that the note subjects are about."""
        rows = [("owner", visibility, record, subject.startswith("deleted"))
                for (subject, visibility), record in self.subjects.items()
                if subject.removeprefix("deleted ") == kind]
        if kind == "account":
            noted = {note.about_id for (subject, _v), note in self.subjects.items() if subject.endswith("note")}
            rows += [("owner", "everyone", account, False) for account in Account.objects.filter(pk__in=noted)]
            # The customers of the deal and order subjects: the owner's, shared with everyone.
            rows += [("owner", "everyone", account, False)
                     for account in Account.objects.filter(name__startswith="Customer of ")]
        if kind == "support item":  # the item the request subject is about: the owner's, shared with everyone
            rows += [("owner", "everyone", request.item, False) for (subject, _v), request in self.subjects.items()
                     if subject == "support request to teammate"]
        for module in FEATURE_WORLDS:  # records a feature's subjects bring along (a project's tasks)
            rows += getattr(module, "list_rows", lambda kind: [])(kind)
        if kind == "activity":  # the owner's private copies of the support item subjects: private tasks
            rows += [("owner", "private", copy.task, False)
                     for copy in PrivateCopy.objects.filter(holder=self.personas.owner).select_related("task")]
            # The follow-up subject's task: the owner's, for the team.
            rows += [("owner", "team", follow_up.task, False) for (subject, _v), follow_up in self.subjects.items()
                     if subject == "follow up"]
        return rows


def build_cast() -> Cast:
    personas = build_personas()
    subjects: dict[tuple[str, str | None], Any] = {}
    for visibility in VISIBILITIES:
        for kind, build in RECORD_SUBJECTS.items():
            subjects[kind, visibility] = build(personas, visibility)
    for kind, build_other in OTHER_SUBJECTS.items():
        subjects[kind, None] = build_other(personas)
    sessions, tokens = {}, {}
    for name, user in personas.all().items():
        client = new_client()
        client.force_login(user)
        sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
        tokens[name] = token_create(user=user, name="matrix").plaintext
    return Cast(personas=personas, subjects=subjects, sessions=sessions, tokens=tokens)


class World:
    """One case's view of the cast: its personas, its subject, its clients."""

    def __init__(self, cast: Cast, visibility: str | None = None) -> None:
        self.cast = cast
        self.personas = cast.personas
        self.visibility = visibility or "everyone"
        for user in self.personas.all().values():
            forget_access(user)  # rights are cached on the user object; the cast outlives a test

    def user(self, persona: str) -> User:
        return getattr(self.personas, persona)

    def subject(self, kind: str) -> Any:
        if kind in RECORD_SUBJECTS:
            return self.cast.subjects[kind, self.visibility]
        return self.cast.subjects[kind, None]

    # --- HTTP ----------------------------------------------------------------------

    def page(self, persona: str | None, method: str, url: str, data: dict | None = None, *,
             enforce_csrf: bool = False) -> Any:
        client = self.session_client(persona, enforce_csrf=enforce_csrf)
        if method == "GET":
            return client.get(url, data or {})
        if method == "POST":
            return client.post(url, data or {})
        return client.generic(method, url)

    def session_client(self, persona: str | None, *, enforce_csrf: bool = False) -> Client:
        """A browser: signed in as the persona (anonymous for None)."""
        client = new_client(enforce_csrf=enforce_csrf)
        if persona is not None:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.cast.sessions[persona]
        return client

    def api(self, persona: str | None, method: str, url: str, body: dict | None = None,
            query: dict | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.cast.tokens[persona]}"} if persona is not None else {}
        if query:
            url = f"{url}?{urlencode(query, doseq=True)}"
        client = new_client()
        if body is None:
            return client.generic(method, url, headers=headers)
        return client.generic(method, url, data=json.dumps(body), content_type="application/json", headers=headers)

    # --- The database --------------------------------------------------------------

    @staticmethod
    def snapshot() -> dict[str, Any]:
        """Every row a write could touch, field by field (small: a case holds a few dozen rows)."""
        tables = {name: _read(name, make) for name, make in SNAPSHOT_TABLES.items()}
        tables["user_roles"] = sorted(tables["user_roles"])
        for module in FEATURE_WORLDS:
            tables.update({name: _read(name, make) for name, make in module.SNAPSHOT.items()})
        return tables


# What World.snapshot() reads: a queryset per table (a feature's world may also give a list).
SNAPSHOT_TABLES: dict[str, Callable[[], Any]] = {
    "accounts": lambda: Account.objects.order_by("pk").values(),
    "contacts": lambda: Contact.objects.order_by("pk").values(),
    "addresses": lambda: Address.objects.order_by("pk").values(),
    "attributes": lambda: Attribute.objects.order_by("pk").values(),
    "activities": lambda: Activity.objects.order_by("pk").values(),
    "activity_assignees": lambda: ActivityAssignee.objects.order_by("pk").values(),
    "activity_links": lambda: ActivityLink.objects.order_by("pk").values(),
    "activity_exceptions": lambda: ActivityException.objects.order_by("pk").values(),
    "notes": lambda: Note.objects.order_by("pk").values(),
    "calendar_feeds": lambda: CalendarFeed.objects.order_by("pk").values(),
    "stage_changes": lambda: StageChange.objects.order_by("pk").values(),
    "leads": lambda: Lead.objects.order_by("pk").values(),
    "opportunities": lambda: Opportunity.objects.order_by("pk").values(),
    "opportunity_contacts": lambda: OpportunityContact.objects.order_by("pk").values(),
    "opportunity_stage_changes": lambda: OpportunityStageChange.objects.order_by("pk").values(),
    "orders": lambda: Order.objects.order_by("pk").values(),
    "order_lines": lambda: OrderLine.objects.order_by("pk").values(),
    "pipelines": lambda: Pipeline.objects.order_by("pk").values(),
    "pipeline_stages": lambda: PipelineStage.objects.order_by("pk").values(),
    "workflows": lambda: WorkflowDefinition.objects.order_by("pk").values(),
    "communication_types": lambda: CommunicationType.objects.order_by("pk").values(),
    "communications": lambda: Communication.objects.order_by("pk").values(),
    "support_items": lambda: SupportItem.objects.order_by("pk").values(),
    "support_requests": lambda: SupportRequest.objects.order_by("pk").values(),
    "private_copies": lambda: PrivateCopy.objects.order_by("pk").values(),
    "outbox": lambda: OutboxMessage.objects.order_by("pk").values(),
    "task_definitions": lambda: TaskDefinition.objects.order_by("pk").values(),
    "rules": lambda: Rule.objects.order_by("pk").values(),
    "follow_ups": lambda: FollowUp.objects.order_by("pk").values(),
    "overrides": lambda: Override.objects.order_by("pk").values(),
    "override_moves": lambda: OverrideMove.objects.order_by("pk").values(),
    "history": lambda: HistoryEntry.objects.order_by("pk").values_list("pk", flat=True),
    "users": lambda: User.objects.order_by("pk").values(
        "pk", "public_id", "username", "password", "first_name", "last_name", "email", "time_zone", "team_id",
        "is_active", "is_staff", "is_superuser"),
    "user_roles": lambda: User.roles.through.objects.values_list("user_id", "role_id"),
    "teams": lambda: Team.objects.order_by("pk").values(),
    "roles": lambda: Role.objects.order_by("pk").values(),
    "role_permissions": lambda: RolePermission.objects.order_by("pk").values(),
    "tokens": lambda: ApiToken.objects.order_by("pk").values("pk", "user_id", "name", "prefix", "revoked_at"),
}
_STATEMENTS: dict[str, tuple[str, Any, Any, tuple[str, ...]]] = {}


def _read(name: str, make: Callable[[], Any]) -> list[Any]:
    """One table's rows as its queryset gives them (dicts, tuples or single values), the queryset built and
    compiled once per process and then run as plain SQL: building and compiling some fifty querysets twice
    per write case was most of the permission matrix's time. Values are as the database returns them, the
    same before and after a request."""
    statement = _STATEMENTS.get(name)
    if statement is None:
        queryset = make()
        if not isinstance(queryset, QuerySet):
            return list(queryset)
        sql, params = queryset.query.get_compiler(queryset.db).as_sql()
        statement = _STATEMENTS[name] = (sql, params, queryset._iterable_class, tuple(queryset.query.values_select))
    sql, params, kind, names = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if kind is FlatValuesListIterable:
        return [row[0] for row in rows]
    if kind is ValuesListIterable:
        return [tuple(row) for row in rows]
    return [dict(zip(names, row, strict=True)) for row in rows]


def changed_tables(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in before if before[name] != after[name]]
