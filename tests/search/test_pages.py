"""The search box on every page, the suggestions under it, and the results page."""

from __future__ import annotations

import re

import pytest

from rapport.core.models import Visibility
from tests.conftest import client_for
from tests.factories import AccountFactory, ContactFactory, NoteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas):
    acme = AccountFactory(name="Acme Corporation", owner=personas.owner)
    ContactFactory(first_name="John", last_name="Smith", owner=personas.owner, account=acme)
    return personas


@pytest.mark.parametrize("url", ["/contacts/", "/accounts/", "/home/", "/settings/", "/search/"])
def test_every_page_has_the_labelled_search_box(world, url):
    html = client_for(world.owner).get(url).content.decode()
    assert '<label for="global-search" class="visually-hidden">Search</label>' in html
    assert re.search(r'<input type="search" id="global-search" name="q"', html)
    assert 'aria-keyshortcuts="/"' in html and "search/search.js" in html


def test_the_results_page_groups_marks_and_links(world):
    response = client_for(world.owner).get("/search/", {"q": "acme corp"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h2 id="results-account">Accounts' in html
    assert "<mark>Acme</mark> <mark>Corp</mark>oration" in html
    account = world.owner  # noqa: F841
    assert re.search(r'<a class="search-hit-title" href="/accounts/[a-z2-7]{16}/">', html)
    # the top bar keeps the query
    assert 'id="global-search" name="q" value="acme corp"' in html


def test_the_results_page_escapes_what_it_shows(personas):
    AccountFactory(name='<script>alert("x")</script> Evil & Co', owner=personas.owner)
    NoteFactory(owner=personas.owner, body='Look <img src=x onerror=alert(1)> evil "note"')
    html = client_for(personas.owner).get("/search/", {"q": "evil"}).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; <mark>Evil</mark> &amp; Co" in html
    assert "&lt;img src=x onerror=alert(1)&gt; <mark>evil</mark>" in html


def test_more_of_one_type(personas):
    for n in range(12):
        ContactFactory(first_name="Many", last_name=f"Manyson{n:02d}", owner=personas.owner)
    client = client_for(personas.owner)
    html = client.get("/search/", {"q": "many"}).content.decode()
    assert html.count('class="search-hit"') == 10
    assert 'href="?q=many&amp;types=contact"' in html
    html = client.get("/search/", {"q": "many", "types": "contact"}).content.decode()
    assert html.count('class="search-hit"') == 12
    assert 'aria-current="page">Contacts</a>' in html


def test_nothing_found_and_too_short_say_so(world):
    client = client_for(world.owner)
    assert "Nothing found for “zzqx”." in client.get("/search/", {"q": "zzqx"}).content.decode()
    assert "Type at least two letters" in client.get("/search/", {"q": "j"}).content.decode()
    assert client.get("/search/").status_code == 200


def test_a_bad_query_is_a_400_page_that_says_why(world):
    response = client_for(world.owner).get("/search/", {"q": "x" * 5000})
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()
    response = client_for(world.owner).get("/search/", {"q": "acme", "types": "widget"})
    assert response.status_code == 400 and "Unknown type widget" in response.content.decode()


def test_suggestions_are_options_of_a_listbox(world):
    response = client_for(world.owner).get("/search/suggest/", {"q": "jonh smi"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'role="group" aria-labelledby="suggest-group-contact"' in html
    assert re.search(r'<a role="option" id="suggest-contact-1" class="search-suggestion" tabindex="-1"\s+'
                     r'aria-selected="false" href="/contacts/[a-z2-7]{16}/">', html)
    assert "<mark>John</mark> <mark>Smi</mark>th" in html
    assert 'href="/search/?q=jonh%20smi"' in html


def test_suggestions_for_too_little_or_too_much(world):
    client = client_for(world.owner)
    assert client.get("/search/suggest/", {"q": ""}).content.decode().strip() == ""
    assert "at least two letters" in client.get("/search/suggest/", {"q": "j"}).content.decode()
    assert "at most 200 characters" in client.get("/search/suggest/", {"q": "y" * 300}).content.decode()


def test_pages_need_a_signed_in_user(db):
    for url in ("/search/?q=acme", "/search/suggest/?q=acme"):
        response = client_for(None).get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_private_records_do_not_reach_the_page_of_another_user(world):
    ContactFactory(first_name="John", last_name="Secretive", owner=world.owner, visibility=Visibility.PRIVATE)
    html = client_for(world.outsider).get("/search/", {"q": "john"}).content.decode()
    assert "Secretive" not in html and "Smith" in html
