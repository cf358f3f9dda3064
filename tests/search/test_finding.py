"""What a search finds: word starts, small typos, any case and accent, other scripts, attribute terms,
every record type — on whichever database the suite runs on (SQLite, or PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import pytest

from rapport.core.models import Visibility
from rapport.directory.services import account_create, contact_create
from rapport.search.selectors import search
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EmailMessageFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
    OrderFactory,
    SupportItemFactory,
)

pytestmark = pytest.mark.django_db


def found(user, q, **kwargs) -> dict[str, list[str]]:
    """{record type: [titles, best first]}"""
    results = search(user=user, q=q, **kwargs)
    return {group.key: [hit.title for hit in group.hits] for group in results.groups}


@pytest.fixture
def people(personas):
    acme = AccountFactory(name="Acme Corporation", owner=personas.owner)
    AccountFactory(name="Acme Trading", owner=personas.owner)
    account_create(actor=personas.owner, data={"name": "Zenith Dental", "stage": "mature",
                                               "remarks": "Clinic chain. stage=mature region=north"})
    ContactFactory(first_name="John", last_name="Smith", owner=personas.owner, account=acme)
    ContactFactory(first_name="Johanna", last_name="Smithers", owner=personas.owner)
    ContactFactory(first_name="Jörg", last_name="Müller", owner=personas.owner)
    ContactFactory(first_name="Ольга", last_name="Иванова", owner=personas.owner)
    ContactFactory(first_name="太郎", last_name="山田", owner=personas.owner)
    return personas


def test_word_starts_find_a_company(people):
    assert found(people.owner, "acme corp") == {"account": ["Acme Corporation"]}
    assert sorted(found(people.owner, "acme")["account"]) == ["Acme Corporation", "Acme Trading"]


def test_a_transposed_letter_and_an_unfinished_word_find_the_person(people):
    assert found(people.owner, "jonh smi") == {"contact": ["John Smith"]}


@pytest.mark.parametrize("typed", ["smiht", "smth", "smitth", "snith"])
def test_one_typing_mistake_in_a_whole_word_is_forgiven(people, typed):
    assert "John Smith" in found(people.owner, typed).get("contact", [])


def test_a_typo_ranks_below_what_was_typed_right(people):
    ContactFactory(first_name="Anna", last_name="Smit", owner=people.owner)
    titles = found(people.owner, "smit")["contact"]
    assert titles[0] == "Anna Smit"  # the whole word first; Smith and Smithers start with it too


@pytest.mark.parametrize("typed", ["muller", "MÜLLER", "MÜL", "mul", "jorg mu", "Jörg Müller"])
def test_accents_and_case_do_not_matter(people, typed):
    assert found(people.owner, typed).get("contact") == ["Jörg Müller"]


@pytest.mark.parametrize("typed", ["иван", "ИВАНОВА", "ольга ив", "山田", "太郎"])
def test_other_scripts_are_found(people, typed):
    assert len(found(people.owner, typed).get("contact", [])) == 1


def test_attribute_terms_combine_with_words(people):
    account_create(actor=people.owner, data={"name": "Nordic Dental", "remarks": "region=south", "stage": "mature"})
    assert found(people.owner, "stage=mature region=north dental") == {"account": ["Zenith Dental"]}
    assert found(people.owner, "region=north") == {"account": ["Zenith Dental"]}
    assert sorted(found(people.owner, "stage=mature dental")["account"]) == ["Nordic Dental", "Zenith Dental"]
    assert found(people.owner, "stage=growing dental") == {}


def test_attribute_terms_of_a_contact_and_its_accounts_stage(people):
    mature = account_create(actor=people.owner, data={"name": "Old Friend Ltd", "stage": "mature"})
    contact_create(actor=people.owner, data={"first_name": "Ada", "last_name": "Lovelace", "account": mature})
    contact_create(actor=people.owner, data={"first_name": "Ada", "last_name": "Byron",
                                             "remarks": "stage=growing region=west"})
    assert found(people.owner, "ada stage=mature") == {"contact": ["Ada Lovelace"]}
    assert found(people.owner, "ada stage=growing") == {"contact": ["Ada Byron"]}
    assert found(people.owner, "region=west") == {"contact": ["Ada Byron"]}


def test_types_without_attributes_are_not_matched_by_an_attribute_term(people):
    OpportunityFactory(name="Dental chairs", owner=people.owner, account=AccountFactory(owner=people.owner))
    assert "opportunity" in found(people.owner, "dental")
    assert "opportunity" not in found(people.owner, "dental stage=mature")


def test_every_record_type_is_searched_at_once(personas):
    owner = personas.owner
    account = AccountFactory(name="Pelican Foods", owner=owner)
    ContactFactory(first_name="Pelle", last_name="Pelican", owner=owner)
    LeadFactory(first_name="Pel", last_name="Pelican", company="Pelican Lead Co", owner=owner)
    OpportunityFactory(name="Pelican renewal", owner=owner, account=account)
    OrderFactory(number="PEL-1001", description="Pelican crates", owner=owner, account=account)
    SupportItemFactory(subject="Pelican oven broken", owner=owner, account=account)
    ActivityFactory(subject="Call Pelican about prices", owner=owner)
    NoteFactory(owner=owner, about=account, body="Pelican wants a discount next year.")
    EmailMessageFactory(subject="Pelican order question", owner=owner, visibility=Visibility.EVERYONE)
    assert set(found(owner, "pelican")) == {"account", "contact", "lead", "opportunity", "order", "support_item",
                                            "activity", "note", "email"}


def test_types_narrow_the_search(people):
    from rapport.search.registry import searchable

    assert set(found(people.owner, "smith")) == {"contact"}
    assert found(people.owner, "smith", types=[searchable("account")]) == {}


def test_logged_email_is_found_by_subject_addresses_and_text(personas):
    EmailMessageFactory(subject="Quarterly figures", from_address="kari@fjord.example", from_name="Kari Nordmann",
                        to=["orders@acme.example"], text_body="Please find the invoice for the spare blades.",
                        owner=personas.owner)
    for typed in ("quarterly", "kari", "fjord", "orders acme", "spare blades"):
        assert found(personas.owner, typed) == {"email": ["Quarterly figures"]}, typed


def test_a_match_in_the_text_shows_a_snippet_with_the_words_marked(personas):
    NoteFactory(owner=personas.owner, body="Long talk about the weather. " * 5
                + "They will switch suppliers in March unless we lower the price. " + "More weather. " * 5)
    hit = search(user=personas.owner, q="suppliers march").groups[0].hits[0]
    assert "<mark>suppliers</mark>" in hit.snippet_html and "<mark>March</mark>" in hit.snippet_html
    assert len(hit.snippet) < 200


def test_matched_word_starts_are_marked_and_the_rest_escaped(personas):
    AccountFactory(name="<b>Müller</b> & Söhne", owner=personas.owner)
    hit = search(user=personas.owner, q="mul soh").groups[0].hits[0]
    assert str(hit.title_html) == "&lt;b&gt;<mark>Mül</mark>ler&lt;/b&gt; &amp; <mark>Söh</mark>ne"
    assert hit.title_spans == [(3, 6), (16, 19)]


@pytest.mark.parametrize("query", [
    '"*()^:-NEAR AND OR', '"unbalanced', "acme\" OR \"x", "acme*", "NEAR(acme corp)", "title:acme",
    "'; DROP TABLE search_entry; --", "acme & !corp | x:*", "{title body} : acme", "- acme", "^acme",
    "acme)", "((", "a=", "=b", "stage=\"mature", "x" * 60, "a b c d e f g h i j k l m n",
])
def test_operators_are_read_as_text(people, query):
    search(user=people.owner, q=query)  # no error from either engine


def test_operators_around_words_still_find_them(people):
    assert found(people.owner, '"acme" (corp*)') == {"account": ["Acme Corporation"]}
    assert found(people.owner, "acme* corp^") == {"account": ["Acme Corporation"]}
    assert found(people.owner, "acme AND corp") == {}  # "and" is a word like any other

def test_a_one_letter_query_waits_for_more(people):
    results = search(user=people.owner, q="a")
    assert results.too_short and results.groups == []


def test_postgresql_also_forgives_two_mistakes_in_a_long_word(personas):
    from django.db import connection

    AccountFactory(name="Harbour Accommodation", owner=personas.owner)
    assert found(personas.owner, "acomodation") == (
        {"account": ["Harbour Accommodation"]} if connection.vendor == "postgresql" else {})
    assert found(personas.owner, "accomodation") == {"account": ["Harbour Accommodation"]}  # one: everywhere
