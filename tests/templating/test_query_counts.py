"""Pinned query counts of the template reads: the list page, a template's page with its preview, the
API list, one template, and its preview cost the same for 3 templates (and history entries, and
contacts) as for 30. If a change adds a query on purpose, update the number here and say why."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.templating import services
from tests.conftest import ApiClient, client_for
from tests.factories import AccountFactory, ContactFactory, TemplateFactory

pytestmark = pytest.mark.django_db

# Session + user (2), rights (1), then the page; a full page also counts, for the top bar, the support
# requests awaiting the user's answer and the pending emails (1, counted together).
PAGES: dict[str, str] = {
    # + the owner choices (1), the page of templates with owners (1)
    "list": "/templates/",
    # + the template with its owner (1), its history with actors (1), the first visible contact with its
    # account (1) and both records' addresses (2)
    "detail": "/templates/{template}/",
    # as detail, with the contact named instead of the first
    "detail_contact": "/templates/{template}/?contact={contact}",
}
API: dict[str, str] = {
    # token (1), rights (1), the page of templates with owners (1)
    "list": "templates",
    # token, rights, the template with its owner
    "get": "templates/{template}",
}


def populate(personas, n: int) -> dict[str, str]:
    account = AccountFactory(owner=personas.owner)
    template = None
    for index in range(n):
        template = TemplateFactory(owner=personas.owner if index % 2 else personas.teammate, name=f"T {index:03d}")
        contact = ContactFactory(owner=personas.owner, account=account if index % 2 else None)
        contact.addresses.create(city=f"City {index}")
    assert template is not None
    # History entries: every change of the template the page shows.
    for index in range(n):
        template = services.template_update(actor=personas.admin, template=template,
                                            data={"description": f"Change {index}"}, version=template.version)
    first = ContactFactory(owner=personas.owner, first_name="Aaa", last_name="Aaa", account=account)
    return {"template": template.public_id, "contact": first.public_id}


def count(call: Callable[[], object]) -> int:
    call()  # warm: sessions, the token's last use, caches
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response
    return len(captured.captured_queries)


def measure(personas, n: int) -> dict[str, int]:
    ids = populate(personas, n)
    client = client_for(personas.owner)
    api = ApiClient(personas.owner)
    counts = {f"page:{name}": count(lambda url=url: client.get(url.format(**ids))) for name, url in PAGES.items()}
    counts.update({f"api:{name}": count(lambda path=path: api.get(path.format(**ids))) for name, path in API.items()})
    counts["api:preview"] = count(lambda: api.post(f"templates/{ids['template']}/preview",
                                                   {"contact": ids["contact"]}))
    return counts


def test_reads_do_not_grow_with_rows(personas):
    few = measure(personas, 3)
    from rapport.templating.models import Template

    Template.objects.all().delete()
    from rapport.directory.models import Contact

    Contact.objects.all().delete()
    many = measure(personas, 30)
    assert few == many, {name: (few[name], many[name]) for name in few if few[name] != many[name]}


def test_pinned_counts(personas):
    counts = measure(personas, 5)
    pinned = {"api:list": 3, "api:get": 3, "api:preview": 6}
    assert {name: counts[name] for name in pinned} == pinned, counts
    # Pages: the fixed cost of a page (session, user, rights, the top bar's badges) plus their own.
    base = counts["page:list"] - 2
    assert counts["page:detail"] == base + 5, counts
    assert counts["page:detail_contact"] == base + 5, counts
