"""The Export menu in a list page's header: on every list that has an export, with links that carry the
list's filters and ordering (not its paging); nowhere else. And each export's filters and orderings are
the list's own."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import resolve, reverse

from rapport.exports.resources import ACTIVITY_FILTERS, ACTIVITY_ORDERINGS, resources
from tests.conftest import client_for

LIST_PAGES = {"account_list": "accounts", "contact_list": "contacts", "lead_list": "leads",
              "opportunity_list": "opportunities", "order_list": "orders", "support_list": "support-items",
              "email_list": "emails", "template_list": "templates", "distribution_list_list": "distribution-lists",
              "campaign_list": "campaigns", "project_list": "projects", "expense_list": "expenses"}


def _links(text: str) -> dict[str, str]:
    menu = re.search(r'<details class="export-menu".*?</details>', text, re.S)
    assert menu, "no Export menu"
    return {fmt: html.unescape(url) for url, fmt in
            re.findall(r'<a href="([^"]+)" data-export-format="([a-z]+)"', menu.group(0))}


def test_every_page_that_extends_list_page_has_an_export():
    """Each template extending list_page.html (directly or through the directory's list_base.html) is the
    page of a list in LIST_PAGES; a new list page must get an export (or be named here as without one)."""
    root = Path(__file__).resolve().parents[2] / "rapport"
    extending = set()
    for path in root.rglob("templates/**/*.html"):
        text = path.read_text()
        if '{% extends "list_page.html" %}' in text or '{% extends "directory/list_base.html" %}' in text:
            extending.add(path.name)
    assert extending == {"list_base.html", "account_list.html", "contact_list.html", "lead_list.html",
                         "opportunity_list.html", "order_list.html", "item_list.html", "email_list.html",
                         "template_list.html", "list_list.html", "campaign_list.html", "project_list.html",
                         "expense_list.html",
                         # Without one: a work queue, and a page with its own export of the approved expenses.
                         "expense_approvals.html", "expense_totals.html"}
    assert {r.list_url_name for r in resources().values() if r.list_url_name} == set(LIST_PAGES)


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "key"), list(LIST_PAGES.items()))
def test_the_list_page_offers_its_export(personas, url_name, key):
    response = client_for(personas.owner).get(reverse(url_name))
    assert response.status_code == 200
    links = _links(response.content.decode())
    expected = ["csv", "xlsx", "vcf"] if key == "contacts" else ["csv", "xlsx"]
    assert list(links) == expected
    # The email list opens on the user's pending messages: its export too.
    default = "view=pending&" if key == "emails" else ""
    for fmt, url in links.items():
        assert url == f"/exports/{key}/?{default}format={fmt}"
        assert resolve(url.split("?")[0]).url_name == "export_download"


@pytest.mark.django_db
def test_the_links_carry_the_filters_and_ordering_not_the_paging(personas):
    url = "/contacts/?q=berg&attr=region:north&attr=tier:gold&ordering=-updated_at&cursor=abc&limit=10&owner="
    links = _links(client_for(personas.owner).get(url).content.decode())
    assert links["csv"] == ("/exports/contacts/?q=berg&attr=region%3Anorth&attr=tier%3Agold"
                            "&ordering=-updated_at&format=csv")


def test_a_page_without_an_export_shows_no_menu(rf: RequestFactory):
    request = rf.get("/settings/outbox/?status=failed")
    request.resolver_match = resolve("/settings/outbox/")
    rendered = Template("{% load exports_tags %}{% export_menu %}").render(Context({"request": request}))
    assert "export-menu" not in rendered
    rendered = Template("{% load exports_tags %}{% export_menu %}").render(Context({}))
    assert rendered.strip() == ""


def test_the_exports_use_the_lists_own_filters_and_orderings():
    from rapport.activities import api as activities_api
    from rapport.directory import filters as directory
    from rapport.mail import selectors as mail
    from rapport.sales import filters as sales
    from rapport.support import filters as support

    found = resources()
    assert found["accounts"].filters == directory.ACCOUNT_FILTERS
    assert found["contacts"].orderings is directory.CONTACT_ORDERINGS
    assert found["opportunities"].filters == sales.OPPORTUNITY_FILTERS
    assert found["support-items"].orderings is support.SUPPORT_ORDERINGS
    assert found["emails"].filters == mail.EMAIL_FILTERS
    # The activity API keeps its filters and orderings in its api module; the export's copy stays in step.
    assert activities_api.ACTIVITY_FILTERS - {"start", "end"} == ACTIVITY_FILTERS
    assert ACTIVITY_ORDERINGS == activities_api.ACTIVITY_ORDERINGS
