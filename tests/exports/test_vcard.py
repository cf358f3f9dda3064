"""Contacts as vCard 3.0: one card per contact, which a vCard reader (vobject) parses back with the names,
emails, phones, company, address and notes as they were; long lines folded at 75 octets, never inside a
character; the company named only where the user may see it."""

from __future__ import annotations

import pytest
import vobject

from rapport.core.models import Visibility
from rapport.directory.models import Address
from rapport.exports.vcard import escape, fold
from tests.conftest import client_for
from tests.exports.helpers import body
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

LONG_NOTE = "Prefers calls in the morning; speaks Norwegian, German and English. " * 3 + "Ærlig talt: 😀 øre, æble."


def _cards(response) -> list:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    assert response["Content-Disposition"].endswith('.vcf"')
    return list(vobject.readComponents(body(response).decode("utf-8")))


def test_contacts_parse_back_with_names_emails_and_phones(personas):
    account = AccountFactory(owner=personas.owner, name="Nordwind; Logistik, GmbH")
    anna = ContactFactory(owner=personas.owner, account=account, first_name="Anna-Lena", last_name="Berg, Øberg",
                          title="Head of purchasing", email="anna@nordwind.example",
                          secondary_email="anna.private@example.com", phone="+47 22 33 44 55", mobile="+47 900 00 000",
                          remarks=LONG_NOTE + "\nregion=north")
    Address.objects.create(contact=anna, kind="work", street="Storgata 1\nBakgården", postal_code="0155",
                           city="Oslo", country="Norway")
    ContactFactory(owner=personas.owner, first_name="", last_name="Solo")
    cards = _cards(client_for(personas.owner).get("/exports/contacts/?format=vcf"))
    assert len(cards) == 2
    card = next(c for c in cards if c.uid.value == anna.uid)
    assert card.version.value == "3.0"
    assert card.n.value.family == "Berg, Øberg"
    assert card.n.value.given == "Anna-Lena"
    assert card.fn.value == "Anna-Lena Berg, Øberg"
    assert card.org.value == ["Nordwind; Logistik, GmbH"]
    assert card.title.value == "Head of purchasing"
    emails = {e.value: e.params.get("TYPE") for e in card.email_list}
    assert set(emails) == {"anna@nordwind.example", "anna.private@example.com"}
    assert "PREF" in [t.upper() for t in emails["anna@nordwind.example"]]
    phones = {t.value: [p.upper() for p in t.params.get("TYPE")] for t in card.tel_list}
    assert "CELL" in phones["+47 900 00 000"]
    assert "WORK" in phones["+47 22 33 44 55"]
    assert card.note.value == LONG_NOTE + "\nregion=north"
    address = card.adr.value
    assert (address.street, address.city, address.code, address.country) == (
        "Storgata 1\nBakgården", "Oslo", "0155", "Norway")
    solo = next(c for c in cards if c.uid.value != anna.uid)
    assert solo.fn.value == "Solo" and solo.n.value.family == "Solo"


def test_lines_are_folded_at_75_octets_and_end_in_crlf(personas):
    ContactFactory(owner=personas.owner, last_name="Ø" * 60, remarks=LONG_NOTE)
    raw = body(client_for(personas.owner).get("/exports/contacts/?format=vcf"))
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    for line in lines:
        line.decode("utf-8")  # no line ends inside a character
    assert any(line.startswith(b" ") for line in lines), "the long note is folded"


def test_fold_and_escape():
    assert fold("A" * 75) == "A" * 75 + "\r\n"
    folded = fold("B" * 200)
    parts = folded[:-2].split("\r\n")
    assert [len(p.encode()) for p in parts] == [75, 75, 52]  # 75, then a space and 74, then a space and the last 51
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == "B" * 200
    assert escape("a,b;c\\d\r\ne") == "a\\,b\\;c\\\\d\\ne"


def test_the_company_is_named_only_where_the_user_may_see_it(personas):
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE, name="Secret Holdings")
    ContactFactory(owner=personas.outsider, visibility=Visibility.EVERYONE, account=hidden, last_name="Public")
    text = body(client_for(personas.owner).get("/exports/contacts/?format=vcf")).decode()
    assert "Public" in text
    assert "Secret Holdings" not in text and "ORG:" not in text


def test_vcard_keeps_the_lists_filters(personas, api_for):
    account = AccountFactory(owner=personas.owner)
    wanted = ContactFactory(owner=personas.owner, account=account, last_name="Wanted")
    ContactFactory(owner=personas.owner, last_name="Elsewhere")
    response = api_for(personas.owner).get("contacts/export", format="vcf", account=account.public_id)
    cards = _cards(response)
    assert [c.uid.value for c in cards] == [wanted.uid]


def test_only_contacts_export_to_vcard(personas, api_for):
    response = client_for(personas.owner).get("/exports/accounts/?format=vcf")
    assert response.status_code == 400
    assert "Unknown format vcf" in response.content.decode()
    response = api_for(personas.owner).get("accounts/export", format="vcf")
    assert response.status_code == 400
    assert "format" in response.json()["errors"]
