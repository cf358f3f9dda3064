"""The permission matrix: every route, for every persona, anonymous and signed in.

The registry is tests/permissions/routes.py; who may do what is stated in
tests/permissions/rules.py; the data is built once per module (world.py).

- Every route Django knows (pages, the admin, the API) has an entry in the
  registry; a new route without one fails here, by name, and so does an entry
  whose route is gone.
- Anonymous visitors, and users since deactivated, get the sign-in page (pages)
  or 401 JSON (API), except on the reviewed allow-list; revoked or made-up API
  tokens get 401.
- Each persona gets, for a record owned by `owner` that is private, team or
  everyone, what the rules say: 404 where they may not see it (in the API with
  the very body of a missing record), 403 where they may see but not do it; a
  denied write leaves the database as it was, an allowed one changes it.
- A deleted record answers 404 on every route about a live one.
- Lists, pickers and record pages carry exactly what the user may see, and no
  name or id of a record they may not see (linked records and history included);
  neither do duplicate warnings.
- Writes from a browser session need the CSRF token.
- Extra fields sent to write endpoints never change what the caller may not change.
- The Django admin is for staff only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from ninja.operation import PathView

from rapport.activities.models import Activity, Note
from rapport.api import api as ninja_api
from rapport.core.models import ApiToken, User, Visibility
from rapport.directory import services
from rapport.directory.models import Account, Contact
from rapport.sales.models import Opportunity, Order
from rapport.support.models import SupportItem
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    SupportItemFactory,
    UserFactory,
)
from tests.permissions.routes import (
    ADMIN_NAMESPACE,
    KNOWN_BUGS,
    PUBLIC,
    REGISTRY,
    ROUTES,
    STATIC_URL,
    Call,
    Route,
)
from tests.permissions.rules import (
    CHANGE_OWNERS_RECORD,
    CREATE,
    NOTE_AUTHOR,
    NOTE_READERS,
    OK,
    PERSONAS,
    ROLE,
    SEE_OWNERS_RECORD,
    VISIBILITIES,
    depends_on_visibility,
    may,
    persona_facts,
    sees,
    status_in,
)
from tests.permissions.world import (
    RECORD_SUBJECTS,
    Cast,
    World,
    build_cast,
    changed_tables,
    describe_personas,
    new_client,
)

pytestmark = pytest.mark.django_db

UNKNOWN_ID = "zzzzzzzzzzzzzzzz"


@pytest.fixture(scope="module")
def cast(django_db_setup, django_db_blocker) -> Iterator[Cast]:
    """Personas, sessions, tokens and subjects, built once per module in a transaction rolled back at its end.

    Each test runs in a savepoint inside it (pytest-django's `db`), so what a test writes is undone.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as Django's TestCase marks its own: durable atomics stay usable inside
        outer.__enter__()
        try:
            yield build_cast()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# --- Every route has an entry -----------------------------------------------------------------


def _path_view(callback: Any) -> PathView | None:
    """django-ninja serves each path through a closure over its PathView: find it."""
    for cell in getattr(callback, "__closure__", None) or ():
        if isinstance(cell.cell_contents, PathView):
            return cell.cell_contents
    return None


def _walk(patterns: list, prefix: str = "", namespace: str | None = None) -> Iterator[tuple[str, str | None, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace if namespace is None else (
                f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace, pattern


def discovered_routes() -> dict[str, str]:
    """Every route the resolver knows, keyed as the registry keys them, with where it was found."""
    routes: dict[str, str] = {}
    schema_paths = ninja_api.get_openapi_schema()["paths"]
    for route, namespace, pattern in _walk(get_resolver().url_patterns):
        if namespace == ADMIN_NAMESPACE:
            continue  # the Django admin, covered as a block below
        if namespace == ninja_api.urls_namespace:
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
            view = _path_view(pattern.callback)
            if view is not None:
                methods = sorted({m for op in view.operations for m in op.methods})
            else:  # the schema and docs views, ninja's root; or a ninja that hides its PathView
                methods = [m.upper() for m in schema_paths.get(path, {})] or ["GET"]
            for method in methods:
                routes[f"{method} {path}"] = route
        elif namespace is None:
            routes[pattern.name or f"<unnamed pattern /{route}>"] = route
        else:
            routes[f"{namespace}:{pattern.name}"] = route  # a new namespace: needs its own entry or block
    return routes


def test_every_route_has_an_entry_in_the_matrix():
    routes = discovered_routes()
    missing = sorted(key for key in routes if key not in REGISTRY)
    assert not missing, (
        "Routes with no entry in tests/permissions/routes.py (add one per URL name or API operation, "
        "stating who may use it): " + ", ".join(f"{key} (/{routes[key]})" for key in missing)
    )


def test_every_entry_names_a_route_that_exists():
    stale = sorted(set(REGISTRY) - set(discovered_routes()))
    assert not stale, "Entries in tests/permissions/routes.py for routes that no longer exist: " + ", ".join(stale)


def test_every_operation_in_the_openapi_schema_has_an_entry():
    schema = ninja_api.get_openapi_schema()
    operations = {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}
    assert operations, "the schema lists no operations"
    missing = sorted(operations - set(REGISTRY))
    assert not missing, "API operations with no entry in tests/permissions/routes.py: " + ", ".join(missing)


def test_the_anonymous_allow_list_is_the_reviewed_one():
    open_routes = {route.key for route in ROUTES if route.anonymous is not None}
    assert open_routes == set(PUBLIC), (
        "Only the reviewed allow-list PUBLIC in routes.py may answer anonymous visitors; "
        f"added: {sorted(open_routes - set(PUBLIC))}, missing: {sorted(set(PUBLIC) - open_routes)}"
    )


def test_the_cast_is_the_shared_personas(cast):
    assert describe_personas(cast.personas) == persona_facts()


def test_every_entry_states_every_persona():
    for route in ROUTES:
        assert route.calls, route.key
        for call in route.calls:
            assert set(call.expect) == set(PERSONAS), f"{route.key} {call.method} must state every persona"
            if depends_on_visibility(call.expect):
                assert route.subject is not None, f"{route.key} {call.method}: per-visibility table without a record"


def test_the_written_tables_agree_with_the_rules():
    """The tables of rules.py, written out by hand, against the rules stated as code."""
    def cell(allowed: bool, visible: bool) -> Any:
        return OK if allowed else (403 if visible else 404)

    for persona in PERSONAS:
        see = tuple(cell(sees(persona, "owner", v), sees(persona, "owner", v)) for v in VISIBILITIES)
        assert SEE_OWNERS_RECORD[persona] == see, persona
        for action in ("update", "delete"):
            change = tuple(cell(sees(persona, "owner", v) and may(persona, action, "owner"),
                                sees(persona, "owner", v)) for v in VISIBILITIES)
            assert CHANGE_OWNERS_RECORD[persona] == change, (persona, action)
        assert CREATE[persona] == (OK if may(persona, "create") else 403), persona


def test_the_note_tables_agree_with_the_rules():
    """A note is shared with its author's team whatever its visibility: it is read as a team record of its
    author's would be; only its author and the administrator change or delete it."""
    for persona in PERSONAS:
        reads = sees(persona, "owner", "team")
        assert NOTE_READERS[persona] == (OK if reads else 404), persona
        changes = persona == "owner" or ROLE[persona] == "admin"
        assert NOTE_AUTHOR[persona] == (OK if changes else (403 if reads else 404)), persona


# --- Anonymous visitors --------------------------------------------------------------------------


def _anonymous_cases() -> Iterator[Any]:
    for who in ("anonymous", "deactivated"):
        for route in ROUTES:
            for call in route.calls:
                label = route.key if route.is_api else f"{route.key}|{call.method}"
                yield pytest.param(route, call, who, id=f"{label}|{who}")


def _send(world: World, route: Route, call: Call, persona: str | None, url: str, body: dict | None,
          query: dict | None = None) -> Any:
    if route.is_api:
        if call.method in ("GET", "DELETE"):
            return world.api(persona, call.method, url, query=query)
        return world.api(persona, call.method, url, body=body, query=query)
    return world.page(persona, call.method, url, {**(body or {}), **(query or {})} or None)


def _actor_for(call: Call) -> str:
    """A sales user where they may make the call at all, else the administrator."""
    return "owner" if status_in(call.expect, "owner", "everyone") < 400 else "admin"


@pytest.mark.parametrize(("route", "call", "who"), list(_anonymous_cases()))
def test_anonymous(cast, route, call, who):
    """Without sign-in, or with the session and token of a user since deactivated: the sign-in page or 401."""
    world = World(cast)
    url = route.url(world)
    body = call.body(world, "owner") if call.body else None
    persona = None
    if who == "deactivated":
        User.objects.filter(pk=world.user("owner").pk).update(is_active=False)
        persona = "owner"  # with the owner's session cookie and API token
    before = world.snapshot()
    response = _send(world, route, call, persona, url, body)
    if route.anonymous is not None:
        assert response.status_code == route.anonymous[call.method], f"{call.method} {url}"
    elif route.is_api:
        assert response.status_code == 401, f"{call.method} {url} answered {response.status_code} without sign-in"
        assert response["Content-Type"].startswith("application/json")
        assert response.json().get("detail")
    else:
        assert response.status_code == 302, f"{call.method} {url} answered {response.status_code} without sign-in"
        location = urlsplit(response["Location"])
        assert location.path == reverse("login"), f"{call.method} {url} sent to {response['Location']}"
        assert parse_qs(location.query).get("next") == [url]
    if route.key != "login":  # a failed sign-in is recorded, by design
        assert changed_tables(before, world.snapshot()) == []


def test_api_tokens_that_are_revoked_or_made_up_are_refused(cast):
    world = World(cast)
    token = ApiToken.objects.get(user=world.user("owner"), name="matrix")
    token.revoked_at = timezone.now()
    token.save()
    before = world.snapshot()
    for route in ROUTES:
        if not route.is_api or route.key in PUBLIC:
            continue
        call = route.calls[0]
        url = route.url(world)
        body = call.body(world, "owner") if call.body else None
        for header in (f"Bearer {cast.tokens['owner']}", f"Bearer {cast.tokens['owner']}x",
                       "Bearer rap_000000000000_made-up-secret", "Basic b3duZXI6eA=="):
            response = new_client().generic(call.method, url, data=json.dumps(body or {}),
                                            content_type="application/json", headers={"Authorization": header})
            assert response.status_code == 401, (route.key, header)
    assert changed_tables(before, world.snapshot()) == []


def test_static_files_are_public(client):
    response = client.get(STATIC_URL)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) if response.streaming else response.content


# --- Every persona, every visibility, every route -------------------------------------------------


def _matrix_cases() -> Iterator[Any]:
    for route in ROUTES:
        for call in route.calls:
            visibilities = VISIBILITIES if depends_on_visibility(call.expect) else (None,)
            for persona in PERSONAS:
                for visibility in visibilities:
                    label = route.key if route.is_api else f"{route.key}|{call.method}"
                    case_id = f"{label}|{persona}" + (f"|{visibility}" if visibility else "")
                    reason = KNOWN_BUGS.get((route.key, call.method, persona, visibility))
                    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                    yield pytest.param(route, call, persona, visibility, id=case_id, marks=marks)


@pytest.mark.parametrize(("route", "call", "persona", "visibility"), list(_matrix_cases()))
def test_matrix(cast, route, call, persona, visibility):
    world = World(cast, visibility)
    url = route.url(world)
    body = call.body(world, persona) if call.body else None
    before = world.snapshot() if call.writes else None

    response = _send(world, route, call, persona, url, body)

    expected = status_in(call.expect, persona, visibility)
    where = f"{call.method} {url} as {persona}" + (f" on a {visibility} record of owner's" if visibility else "")
    assert response.status_code == expected, f"{where}: expected {expected}, got {response.status_code}"
    if route.is_api and expected >= 400 and route.key not in PUBLIC:
        assert response.json().get("detail"), where
    if expected == 404 and route.subject is not None and route.is_api:
        # Hidden looks exactly like missing: the same status and the same body.
        missing = _send(world, route, call, persona, route.url(world, value=UNKNOWN_ID), body)
        assert (missing.status_code, missing.json()) == (404, response.json()), where
    if call.writes:
        after = world.snapshot()
        if expected >= 400:
            assert changed_tables(before, after) == [], f"{where}: a denied write changed the database"
        else:
            assert changed_tables(before, after), f"{where}: an allowed write changed nothing"


def _swapped_cases() -> Iterator[Any]:
    for route in ROUTES:
        if route.subject in RECORD_SUBJECTS:
            for call in route.calls:
                if any(status_in(call.expect, p, "everyone") != 405 for p in PERSONAS):
                    label = route.key if route.is_api else f"{route.key}|{call.method}"
                    yield pytest.param(route, call, id=label)


@pytest.mark.parametrize(("route", "call"), list(_swapped_cases()))
def test_a_deleted_record_is_gone_and_a_live_one_cannot_be_restored(cast, route, call):
    """Every route about a live record answers 404 for a deleted one, even to its owner and the administrator;
    restoring answers 404 for a record that is not deleted."""
    world = World(cast, "everyone")
    deleted = route.subject.startswith("deleted ")
    other = world.subject(route.subject.removeprefix("deleted ") if deleted else f"deleted {route.subject}")
    url = route.url(world, value=other.public_id)
    before = world.snapshot()
    for persona in PERSONAS:
        body = call.body(world, persona) if call.body else None
        response = _send(world, route, call, persona, url, body)
        assert response.status_code == 404, f"{call.method} {url} as {persona}: {response.status_code}"
    assert changed_tables(before, world.snapshot()) == []


# --- Lists carry exactly what the user may see ----------------------------------------------------


def _list_world(cast: Cast, kind: str) -> tuple[list[tuple[str, str, Any, bool]], Account]:
    """Records of every visibility owned by every persona, a deleted one each, and the cast's own.

    Every account hangs under, every contact works at, and every activity regards the outsider's
    private account, so a list that shows a linked name it may not must fail too. Each activity is
    assigned to its owner only, so that who sees it is the rule of owner and visibility alone.
    Returns (owner persona, visibility, record, deleted) rows and that account.
    """
    personas = cast.personas
    linked = AccountFactory(name="Acct-outsider-private", owner=personas.outsider, visibility=Visibility.PRIVATE)
    rows = cast.records(kind)
    for persona in PERSONAS:
        owner = getattr(personas, persona)
        for visibility in (*VISIBILITIES, "gone"):
            deleted = visibility == "gone"
            extra = {"visibility": Visibility.EVERYONE if deleted else visibility,
                     "deleted_at": timezone.now() if deleted else None}
            if kind == "account":
                if (persona, visibility) == ("outsider", "private"):
                    rows.append((persona, visibility, linked, False))
                    continue
                record = AccountFactory(name=f"Acct-{persona}-{visibility}", owner=owner, parent=linked, **extra)
            elif kind == "activity":  # made by the administrator: a read-only user may not make their own
                record = ActivityFactory(subject=f"Act-{persona}-{visibility}", owner=owner, actor=personas.admin,
                                         visibility=extra["visibility"], regarding=[linked], assignees=[owner])
                if deleted:
                    Activity.objects.filter(pk=record.pk).update(deleted_at=extra["deleted_at"])
            elif kind == "lead":
                record = LeadFactory(last_name=f"Lead-{persona}-{visibility}", company=f"LeadCo-{persona}-{visibility}",
                                     owner=owner, account=linked, **extra)
            elif kind == "opportunity":
                record = OpportunityFactory(name=f"Deal-{persona}-{visibility}", owner=owner, account=linked, **extra)
            elif kind == "order":
                record = OrderFactory(number=f"Ord-{persona}-{visibility}", owner=owner, account=linked, **extra)
            elif kind == "support item":
                record = SupportItemFactory(subject=f"Case-{persona}-{visibility}", owner=owner, account=linked,
                                            **extra)
            else:
                record = ContactFactory(first_name="Cont", last_name=f"Cont-{persona}-{visibility}", owner=owner,
                                        account=linked, **extra)
            rows.append((persona, extra["visibility"], record, deleted))
    return rows, linked


def _label(record: Any) -> str:
    if isinstance(record, Activity):
        return record.subject
    if isinstance(record, Order):
        return record.number
    if isinstance(record, SupportItem):
        return record.subject
    return record.name if isinstance(record, Account | Opportunity) else record.last_name


def _list_cases() -> Iterator[Any]:
    for route in ROUTES:
        if route.lists:
            for persona in PERSONAS:
                yield pytest.param(route, persona, id=f"{route.key}|{persona}")


@pytest.mark.parametrize(("route", "persona"), list(_list_cases()))
def test_list_carries_exactly_what_the_user_may_see(cast, route, persona):
    rows, linked = _list_world(cast, route.lists)
    # Expected from the rules alone: alive and visible by owner and visibility.
    expected = {record.public_id for owner, visibility, record, deleted in rows
                if not deleted and sees(persona, owner, visibility)}
    hidden = [record for owner, visibility, record, deleted in rows
              if deleted or not sees(persona, owner, visibility)]
    if not sees(persona, "outsider", "private"):
        hidden.append(linked)  # every record of the list links to it

    world = World(cast)
    # The largest page (lists and the API alike): the cast grows with every feature's subjects, and the
    # test reads one page.
    query = {"limit": 200} if route.list_cap is None else None
    response = _send(world, route, route.calls[0], persona, route.url(world), None, query)
    assert response.status_code == 200
    shown = route.list_ids(response)
    if route.list_cap is not None:  # a picker: the first matches by name
        assert shown <= expected, f"{route.key} as {persona} shows {shown - expected}"
        assert len(shown) == min(route.list_cap, len(expected))
    else:
        assert shown == expected, (
            f"{route.key} as {persona}: shows {len(shown - expected)} it may not "
            f"and misses {len(expected - shown)} it should"
        )
    text = response.content.decode()
    leaks = sorted({_label(record) for record in hidden if _label(record) in text or record.public_id in text})
    assert not leaks, f"{route.key} as {persona} carries what they may not see: {leaks}"


def test_note_list_carries_exactly_the_notes_the_user_may_see(cast):
    """GET /api/v1/notes?about=...: on an account everyone sees, a note of every persona's and a deleted one each.
    A note is the team's of its author, whatever its visibility says: it shows as a team record of its author's."""
    personas = cast.personas
    about = AccountFactory(name="Noted by all", owner=personas.admin, visibility=Visibility.EVERYONE)
    notes = []
    for persona in PERSONAS:
        author = getattr(personas, persona)
        for deleted in (False, True):
            note = Note(owner=author, created_by=author, about_type="account", about_id=about.pk,
                        body=f"Note-{persona}{'-gone' if deleted else ''}", visibility=Visibility.EVERYONE,
                        deleted_at=timezone.now() if deleted else None)
            note.derive()
            note.save()
            notes.append((persona, note, deleted))
    world = World(cast)
    for persona in PERSONAS:
        response = world.api(persona, "GET", "/api/v1/notes", query={"about": f"account:{about.public_id}",
                                                                     "limit": 200})
        assert response.status_code == 200, (persona, response.status_code)
        shown = {item["id"] for item in response.json()["items"]}
        expected = {note.public_id for author, note, deleted in notes if not deleted and sees(persona, author, "team")}
        assert shown == expected, persona
        text = response.content.decode()
        leaks = [note.body for author, note, deleted in notes if note.public_id not in expected and note.body in text]
        assert not leaks, f"the note list as {persona} carries {leaks}"


def test_account_page_lists_only_visible_contacts(cast):
    personas = cast.personas
    account = AccountFactory(name="Shared account", owner=personas.admin, visibility=Visibility.EVERYONE)
    made = {(p, v): ContactFactory(last_name=f"Person-{p}-{v}", owner=getattr(personas, p), visibility=v,
                                   account=account)
            for p in PERSONAS for v in VISIBILITIES}
    world = World(cast)
    for persona in PERSONAS:
        page = world.page(persona, "GET", reverse("account_detail", args=[account.public_id])).content.decode()
        shown = set(re.findall(r'href="/contacts/([a-z2-7]{16})/"', page))
        expected = {c.public_id for (p, v), c in made.items() if sees(persona, p, v)}
        assert shown == expected, persona
        for (p, v), contact in made.items():
            if not sees(persona, p, v):
                assert contact.last_name not in page, (persona, contact.last_name)


# --- Writes from a browser need the CSRF token -----------------------------------------------------


def _write_cases() -> Iterator[Any]:
    for route in ROUTES:
        for call in route.calls:
            if call.writes:
                yield pytest.param(route, call, id=route.key if route.is_api else f"{route.key}|{call.method}")


@pytest.mark.parametrize(("route", "call"), list(_write_cases()))
def test_a_write_from_a_browser_session_needs_the_csrf_token(cast, route, call):
    """Signed in with a session cookie (pages, and the API without a token): no CSRF token, no write."""
    world = World(cast)
    actor = _actor_for(call)
    url = route.url(world)
    body = call.body(world, actor) if call.body else None
    before = world.snapshot()
    client = world.session_client(actor, enforce_csrf=True)
    if route.is_api:
        response = client.generic(call.method, url, data=json.dumps(body or {}), content_type="application/json")
    else:
        response = client.post(url, body or {})
    assert response.status_code == 403, f"{call.method} {url} as {actor} without a CSRF token"
    assert changed_tables(before, world.snapshot()) == []

    # The same request with the token goes through: it was the token that was missing.
    client.get(reverse("settings_index"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    if route.is_api:
        response = client.generic(call.method, url, data=json.dumps(body or {}), content_type="application/json",
                                  headers={"X-CSRFToken": token})
    else:
        response = client.post(url, {**(body or {}), "csrfmiddlewaretoken": token})
    assert response.status_code == status_in(call.expect, actor, "everyone"), f"{call.method} {url} with the token"


# --- Record pages never carry a linked record the user may not see ----------------------------------

SECRET = "Secret Parent Ltd"
# Routes that show one record (and its history) or its edit form, and the record they are shown for.
LINKED_ROUTES = {
    "account_detail": "account", "account_edit": "account", "GET /api/v1/accounts/{account_id}": "account",
    "contact_detail": "contact", "contact_edit": "contact", "GET /api/v1/contacts/{contact_id}": "contact",
}


def _linked_cases() -> Iterator[Any]:
    for key in LINKED_ROUTES:
        for persona in PERSONAS:
            if sees(persona, "teammate", "private"):
                continue  # they may see the secret account: nothing to hide from them
            reason = KNOWN_BUGS.get((key, "GET", persona, "linked"))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(REGISTRY[key], persona, id=f"{key}|{persona}", marks=marks)


@pytest.mark.parametrize(("route", "persona"), list(_linked_cases()))
def test_record_pages_never_name_a_linked_record_the_user_may_not_see(cast, route, persona):
    """An account under, and a contact at, the teammate's private account; the administrator linked them,
    so the link is in their history too. Whoever may not see that account must not learn its name or id."""
    personas = cast.personas
    secret = services.account_create(actor=personas.teammate, data={"name": SECRET, "visibility": "private"})
    records = {
        "account": services.account_create(actor=personas.owner, data={"name": "Child Co", "visibility": "everyone"}),
        "contact": services.contact_create(actor=personas.owner, data={"last_name": "Linked",
                                                                       "visibility": "everyone"}),
    }
    services.account_update(actor=personas.admin, account=records["account"], data={"parent": secret},
                            version=records["account"].version)
    services.contact_update(actor=personas.admin, contact=records["contact"], data={"account": secret},
                            version=records["contact"].version)
    record = records[LINKED_ROUTES[route.key]]
    world = World(cast)
    response = _send(world, route, route.calls[0], persona, route.url(world, value=record.public_id), None)
    assert response.status_code in (200, 403), response.status_code
    text = response.content.decode()
    assert SECRET not in text and secret.public_id not in text, (
        f"{route.key} as {persona} names the account {SECRET!r} they may not see"
    )


def test_the_account_picker_never_offers_a_hidden_account(cast):
    world = World(cast, "private")
    hidden = world.subject("account")  # owner's private account
    url = reverse("account_lookup")
    for persona in PERSONAS:
        for params in ({"selected": hidden.public_id}, {"lookup": "Subject"}, {"lookup": "Subject",
                                                                               "selected": hidden.public_id}):
            text = world.page(persona, "GET", url, params).content.decode()
            visible = sees(persona, "owner", "private")
            assert (hidden.public_id in text) == visible, (persona, params)


@pytest.mark.parametrize("persona", [p for p in PERSONAS if CREATE[p] == OK])
def test_duplicate_warnings_never_reveal_a_hidden_record(cast, persona):
    """Creating a record with the email or website of one the user may not see is no duplicate to them:
    the warning (409, the form's list) would tell them it exists."""
    world = World(cast)
    owner = world.user("owner")
    hidden_account = services.account_create(actor=owner, data={
        "name": "Hidden Duplicate Co", "email": "deals@hidden.test", "website": "https://hidden.test",
        "visibility": "private"})
    hidden_contact = services.contact_create(actor=owner, data={
        "last_name": "Hidden Duplicate", "email": "pat@hidden.test", "visibility": "private"})
    visible = sees(persona, "owner", "private")
    attempts = [
        ("account", hidden_account, "POST /api/v1/accounts", {"name": "Another Co", "email": "deals@hidden.test"}),
        ("account", hidden_account, "POST /api/v1/accounts", {"name": "Another Co", "website": "hidden.test"}),
        ("contact", hidden_contact, "POST /api/v1/contacts", {"last_name": "Another", "email": "pat@hidden.test"}),
    ]
    for kind, hidden, key, data in attempts:
        api_route, page_route = REGISTRY[key], REGISTRY[f"{kind}_create"]
        form = {**page_route.calls[1].body(world, persona), **data}
        for route, call, body, created in ((api_route, api_route.calls[0], data, 201),
                                           (page_route, page_route.calls[1], form, 302)):
            with transaction.atomic():  # each attempt on its own: one that succeeds is undone
                answer = _send(world, route, call, persona, route.url(world), body)
                transaction.set_rollback(True)
            text = answer.content.decode()
            if visible:
                assert answer.status_code == 409 and hidden.public_id in text, (persona, key, data)
            else:
                assert answer.status_code == created, (persona, key, data, answer.status_code)
                assert hidden.public_id not in text and _label(hidden) not in text, (persona, key, data)


# --- Extra fields on every write endpoint ---------------------------------------------------------

IMPOSTOR_ID = "aaaaaaaaaaaaaaaa"
EXTRAS: dict[str, Any] = {
    "owner": lambda w: w.user("outsider").public_id,  # outside a sales user's scope
    "is_superuser": lambda w: True,
    "is_staff": lambda w: True,
    "role": lambda w: "admin",
    "roles": lambda w: ["admin"],
    "created_by": lambda w: w.user("teammate").public_id,
    "id": lambda w: 1,
    "public_id": lambda w: IMPOSTOR_ID,
    "version": None,  # in a create: 99; where the version belongs: one higher than stored
    "deleted_at": lambda w: "2001-01-01T00:00:00+00:00",
    "team": lambda w: w.user("outsider").team.public_id,
}
# Routes whose very purpose is to change users, teams or roles (administrators only).
ACCOUNT_ADMIN_ROUTES = {"settings_user_create", "settings_user_edit", "settings_team_create",
                        "settings_team_edit", "settings_role_create", "settings_role_edit"}
SOFT_DELETE = re.compile(r"(_delete|_restore|_merge)$|^DELETE |/restore$|/merge$")


@cache
def _schema() -> dict[str, Any]:
    return ninja_api.get_openapi_schema()


def _request_fields(route: Route) -> set[str] | None:
    """The body fields an API operation declares (None: it takes no body)."""
    operation = _schema()["paths"][route.path][route.calls[0].method.lower()]
    body = operation.get("requestBody")
    if body is None:
        return None
    schema = body["content"]["application/json"]["schema"]
    if "anyOf" in schema:  # an optional body: the schema or null
        schema = next(option for option in schema["anyOf"] if "$ref" in option)
    ref = schema["$ref"].rsplit("/", 1)[1]
    return set(_schema()["components"]["schemas"][ref]["properties"])


# Fields some admin forms really have: setting them there is the form's purpose, not an extra.
FORM_FIELDS = {"settings_user_create": {"roles", "team"}, "settings_user_edit": {"roles", "team"}}


def _extra_cases() -> Iterator[Any]:
    for route in ROUTES:
        for call in route.calls:
            if not call.writes or route.key in PUBLIC:
                continue
            for name in EXTRAS:
                if name in FORM_FIELDS.get(route.key, ()):
                    continue
                label = route.key if route.is_api else f"{route.key}|{call.method}"
                yield pytest.param(route, call, name, id=f"{label}|{name}")


def _form_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "on" if value else ""
    return value if isinstance(value, list) else str(value)


@pytest.mark.parametrize(("route", "call", "name"), list(_extra_cases()))
def test_extra_fields_change_nothing_the_caller_may_not_change(cast, route, call, name):
    world = World(cast, "everyone")
    actor = _actor_for(call)
    url = route.url(world)
    body = dict(call.body(world, actor)) if call.body else {}
    assert name not in body or name in ("owner", "version"), f"{name} is a field of {route.key}: list it in FORM_FIELDS"
    version_game = name == "version" and call.version
    if version_game:
        value = world.subject(route.subject).version + 5
    else:
        value = 99 if name == "version" else EXTRAS[name](world)
    extra = {name: value if route.is_api else _form_value(value)}
    before = world.snapshot()

    if route.is_api and call.method in ("GET", "DELETE"):
        response = _send(world, route, call, actor, url, None, query=extra)
    else:
        response = _send(world, route, call, actor, url, {**body, **extra})

    status = response.status_code
    after = world.snapshot()
    where = f"{call.method} {url} as {actor} with {name}={value!r}: answered {status}"
    assert status < 500, where
    if route.is_api and call.method in ("POST", "PATCH"):
        fields = _request_fields(route)
        if fields is not None and name not in fields:
            assert status == 422, where + " (an unknown field must answer 422)"
            assert name in response.json().get("errors", {}), where
    if version_game:
        assert changed_tables(before, after) == [], where + " (a version ahead of the stored one)"
        # The API answers 409; a form shows the conflict (409), a delete button redirects with a message.
        assert status == 409 if route.is_api else status in (302, 409), where
    if name == "owner" and ("owner" in body or (route.is_api and "owner" in (_request_fields(route) or ()))):
        assert status in (400, 403, 422), where + " (an owner outside the caller's scope)"
    if status >= 400:
        assert changed_tables(before, after) == [], where + " (refused, yet the database changed)"
    _assert_protected(before, after, route=route, actor=world.user(actor), where=where)


def _by_pk(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {row["pk"] if "pk" in row else row["id"]: row for row in rows}


def _assert_protected(before: dict, after: dict, *, route: Route, actor: Any, where: str) -> None:
    """What no request may change unless that is its very purpose."""
    users_before, users_after = _by_pk(before["users"]), _by_pk(after["users"])
    admin_roles = {row["id"] for row in after["roles"] if row["is_admin"]}
    administrators = {user_id for user_id, role_id in after["user_roles"] if role_id in admin_roles}
    for pk, now in users_after.items():
        row = users_before.get(pk, {"is_superuser": False, "is_staff": False, "username": now["username"]})
        assert now["is_superuser"] == row["is_superuser"], f"{where}: changed is_superuser of {row['username']}"
        # Staff status (the Django admin) may only come with an administrator role, given on the admin forms.
        if now["is_staff"] != row["is_staff"]:
            assert route.key in ACCOUNT_ADMIN_ROUTES and now["is_staff"] == (pk in administrators), (
                f"{where}: changed is_staff of {row['username']}")
    new_users = set(users_after) - set(users_before)
    if route.key not in ACCOUNT_ADMIN_ROUTES:
        assert new_users == set(), where
        for pk, row in users_before.items():
            for name in ("username", "team_id", "is_active"):
                assert users_after[pk][name] == row[name], f"{where}: changed {name} of {row['username']}"
        assert before["user_roles"] == after["user_roles"], f"{where}: changed someone's roles"
        assert before["teams"] == after["teams"], f"{where}: changed a team"
        assert before["roles"] == after["roles"] and before["role_permissions"] == after["role_permissions"], where
    for table_name in ("accounts", "contacts"):
        rows_before, rows_after = _by_pk(before[table_name]), _by_pk(after[table_name])
        for pk, row in rows_before.items():
            now = rows_after[pk]
            for name in ("owner_id", "created_by_id", "public_id", "created_at"):
                assert now[name] == row[name], f"{where}: changed {name} of a {table_name[:-1]}"
            assert now["version"] in (row["version"], row["version"] + 1), f"{where}: version game won"
            if now["deleted_at"] != row["deleted_at"]:
                assert SOFT_DELETE.search(route.key), f"{where}: changed deleted_at"
        for pk in set(rows_after) - set(rows_before):
            new = rows_after[pk]
            assert new["owner_id"] == actor.pk and new["created_by_id"] == actor.pk, f"{where}: owner/created_by"
            assert new["version"] == 1 and new["deleted_at"] is None, f"{where}: version/deleted_at of a new record"
            assert new["public_id"] != IMPOSTOR_ID, f"{where}: chose its own public id"
    tokens_before = {row["pk"] for row in before["tokens"]}
    for row in after["tokens"]:
        if row["pk"] not in tokens_before:
            assert row["user_id"] == actor.pk, f"{where}: made a token for someone else"


def test_a_sales_user_cannot_give_a_record_away_through_the_forms(cast):
    """Page forms: owner=<someone outside the scope> is refused and the record keeps its owner."""
    world = World(cast, "everyone")
    owner = world.user("owner")
    for kind, model in (("account", Account), ("contact", Contact)):
        record = world.subject(kind)
        edit, create = REGISTRY[f"{kind}_edit"], REGISTRY[f"{kind}_create"]
        for target in ("teammate", "outsider", "admin"):
            before = world.snapshot()
            data = {**edit.calls[1].body(world, "owner"), "owner": world.user(target).public_id}
            response = world.page("owner", "POST", edit.url(world), data)
            assert response.status_code in (400, 403), (kind, target, response.status_code)
            assert changed_tables(before, world.snapshot()) == [], (kind, target)
            assert model.objects.get(pk=record.pk).owner_id == owner.pk
            data = {**create.calls[1].body(world, "owner"), "owner": world.user(target).public_id}
            created = world.page("owner", "POST", create.url(world), data)
            assert created.status_code in (400, 403), (kind, target, created.status_code)
            assert changed_tables(before, world.snapshot()) == [], (kind, target)


def test_the_profile_page_sets_only_the_profile(cast):
    world = World(cast)
    viewer = world.user("viewer")
    before = world.snapshot()
    response = world.page("viewer", "POST", reverse("settings_profile"), {
        "first_name": "Vera", "last_name": "Viewer", "email": "vera@example.com", "time_zone": "UTC",
        "is_superuser": "on", "is_staff": "on", "is_active": "", "roles": ["admin"], "role": "admin",
        "team": world.user("outsider").team.public_id, "username": "root", "password": "x",
        "public_id": IMPOSTOR_ID,
    })
    assert response.status_code == 302
    after = world.snapshot()
    assert changed_tables(before, after) == ["users"]
    row = next(row for row in after["users"] if row["pk"] == viewer.pk)
    assert (row["username"], row["is_superuser"], row["is_staff"], row["is_active"]) == ("viewer", False, False, True)
    assert (row["team_id"], row["public_id"], row["password"]) == (viewer.team_id, viewer.public_id, viewer.password)
    assert (row["first_name"], row["email"]) == ("Vera", "vera@example.com")


# --- The Django admin, as a block ------------------------------------------------------------------


def _admin_urls() -> list[tuple[str, str | None]]:
    urls = []
    for route, namespace, pattern in _walk(get_resolver().url_patterns):
        if namespace != ADMIN_NAMESPACE:
            continue
        groups = pattern.pattern.regex.groupindex
        if pattern.name:
            kwargs = {g: ("core" if g == "app_label" else "1") for g in groups}
            urls.append((reverse(f"{ADMIN_NAMESPACE}:{pattern.name}", kwargs=kwargs), pattern.name))
        elif "url" in groups:  # the admin's catch-all
            urls.append(("/admin/no-such-page/", None))
        else:
            urls.append(("/" + re.sub(r"<[^>]+>", "1", route), None))
    assert len(urls) > 20, "the admin should be there"
    return urls


def _assert_sent_to_admin_login(response: Any, url: str, who: str) -> None:
    assert response.status_code == 302, f"{who} got {response.status_code} at {url}"
    assert urlsplit(response["Location"]).path == reverse("admin:login"), f"{who} at {url} -> {response['Location']}"


@pytest.mark.parametrize("persona", [None, *PERSONAS])
def test_the_django_admin_is_for_staff_only(cast, persona):
    world = World(cast)
    who = persona or "anonymous"
    for url, name in _admin_urls():
        response = world.page(persona, "GET", url)
        if name == "login":
            # Rapport's own sign-in page serves the admin's: the form when signed out, else onwards.
            assert response.status_code == (200 if persona is None else 302), f"{who} at {url}"
        elif name == "logout":
            assert response.status_code in (302, 405), f"{who} at {url}"
        else:
            _assert_sent_to_admin_login(response, url, who)


def test_staff_administrators_get_into_the_django_admin(cast):
    staff = UserFactory(username="root", role_slugs="admin", is_staff=True, is_superuser=True)
    client = new_client()
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:directory_account_changelist")).status_code == 200
