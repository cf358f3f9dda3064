"""Contacts as the vCards of a CardDAV address book: what a phone or Outlook gets for a contact, and what a
card it sends becomes. A card a client gave comes back to it byte for byte, patched only where Rapport's values
changed; a card Rapport made parses back to the same fields; bad cards are refused and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import vobject
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.core.models import Visibility
from rapport.directory.models import Address, Contact
from rapport.directory.services import contact_update
from rapport.sync.contact_items import contact_put, contact_texts
from rapport.sync.errors import DavRefusal
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

PHOTO = "PHOTO:data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGA" \
        "WjR9awAAAABJRU5ErkJggg=="


def crlf(*lines: str) -> str:
    return "".join(line + "\r\n" for line in lines)


def folded(line: str) -> str:
    """A long line folded at 75 octets, as a client sends it."""
    return "\r\n ".join(line[i:i + 74] for i in range(0, len(line), 74))


CARD_40 = crlf(
    "BEGIN:VCARD",
    "VERSION:4.0",
    "PRODID:-//Example//Phone Contacts 2.1//EN",
    "UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
    "FN:Jane Q. Doe",
    "N:Doe;Jane;Quinn;Dr.;PhD",
    "ORG:Acme Inc.;Research",
    "TITLE:Chief Scientist",
    folded(PHOTO),
    "EMAIL;TYPE=work:jane.work@acme.example",
    "EMAIL;TYPE=home;PREF=1:jane@home.example",
    "EMAIL;TYPE=other:jane.old@oldmail.example",
    "TEL;VALUE=uri;TYPE=\"cell,voice\":tel:+1-555-555-0100",
    "TEL;VALUE=uri;TYPE=work:tel:+1-555-555-0199",
    "ADR;TYPE=home;LABEL=\"12 Elm St\\nSpringfield\":;;12 Elm St;Springfield;IL;62701;USA",
    "ADR;TYPE=work:;Suite 4;1 Lab Way;Shelbyville;IL;62565;USA",
    "NOTE:Met at the 2023 conference\\, prefers email.",
    "X-PHONETIC-LAST-NAME:Doh",
    "X-SOCIALPROFILE;TYPE=twitter:https://twitter.example/janedoe",
    "REV:20240102T030405Z",
    "END:VCARD",
)

APPLE_30 = crlf(
    "BEGIN:VCARD",
    "VERSION:3.0",
    "PRODID:-//Apple Inc.//iPhone OS 17.4//EN",
    "N:Berg;Anna-Lena;;;",
    "FN:Anna-Lena Berg",
    "ORG:Nordwind Logistik GmbH;",
    "item1.EMAIL;type=INTERNET;type=HOME:anna.private@example.com",
    "item1.X-ABLabel:_$!<Home>!$_",
    "item2.EMAIL;type=INTERNET;type=WORK;type=pref:anna@nordwind.example",
    "TEL;type=CELL;type=VOICE;type=pref:+47 900 00 000",
    "TEL;type=WORK;type=VOICE:+47 22 33 44 55",
    "TEL;type=WORK;type=FAX:+47 22 33 44 56",
    "item3.ADR;type=HOME;type=pref:;;Storgata 1;Oslo;;0155;Norway",
    "item3.X-ABADR:no",
    "X-ABShowAs:PERSON",
    "UID:6B29FC40-CA47-1067-B31D-00DD010662DA",
    "END:VCARD",
)


def put(actor, text: str, contact: Contact | None = None, href: str | None = None) -> Contact:
    return contact_put(actor=actor, text=text, contact=contact, href=href or "card.vcf")


def reload(contact: Contact) -> Contact:
    return Contact.objects.select_related("account").get(pk=contact.pk)


def text_of(contact: Contact) -> str:
    contact = reload(contact)
    return contact_texts([contact])[contact.pk]


def addresses_of(contact: Contact) -> list[tuple[str, ...]]:
    return [(a.kind, a.street, a.postal_code, a.city, a.region, a.country)
            for a in Address.objects.filter(contact=contact).order_by("id")]


# --- Contacts made in Rapport -----------------------------------------------------------------------------------


def rapport_contact(owner, **fields) -> Contact:
    account = AccountFactory(owner=owner, name="Nordwind; Logistik, GmbH")
    values = {"first_name": "Anna-Lena", "last_name": "Berg, Øberg", "title": "Head of purchasing",
              "email": "anna@nordwind.example", "secondary_email": "anna.private@example.com",
              "phone": "+47 22 33 44 55", "mobile": "+47 900 00 000",
              "remarks": "Prefers calls in the morning; speaks Norwegian.\nregion=north", **fields}
    contact = ContactFactory(owner=owner, account=account, **values)
    Address.objects.create(contact=contact, kind="main", street="Storgata 1\nBakgården", postal_code="0155",
                           city="Oslo", country="Norway")
    Address.objects.create(contact=contact, kind="home", street="Hjemveien 2", postal_code="0360", city="Oslo")
    return contact


def test_a_rapport_contact_is_a_vcard_30_that_reads_back_to_the_same_fields(personas):
    contact = rapport_contact(personas.owner)
    text = text_of(contact)
    card = vobject.readOne(text)
    assert card.version.value == "3.0"
    assert card.uid.value == contact.uid
    assert (card.n.value.family, card.n.value.given) == ("Berg, Øberg", "Anna-Lena")
    assert card.fn.value == "Anna-Lena Berg, Øberg"
    assert card.org.value == ["Nordwind; Logistik, GmbH"]
    assert card.title.value == "Head of purchasing"
    assert card.note.value == contact.remarks
    assert [e.value for e in card.email_list] == ["anna@nordwind.example", "anna.private@example.com"]
    phones = {t.value: {p.upper() for p in t.params["TYPE"][0].split(",")} for t in card.tel_list}
    assert "CELL" in phones["+47 900 00 000"] and "CELL" not in phones["+47 22 33 44 55"]
    assert [(a.value.street, a.value.city) for a in card.adr_list] == [("Storgata 1\nBakgården", "Oslo"),
                                                                       ("Hjemveien 2", "Oslo")]
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))

    # The client sends the card back as it got it: the same fields, the same version, no copy kept.
    before = (reload(contact).version, addresses_of(contact))
    again = put(personas.owner, text, contact=reload(contact), href=f"{contact.uid}.vcf")
    assert (again.version, addresses_of(contact)) == before
    stored = reload(contact)
    assert stored.account_id == contact.account_id
    assert (stored.email, stored.secondary_email, stored.phone, stored.mobile, stored.remarks) == (
        contact.email, contact.secondary_email, contact.phone, contact.mobile, contact.remarks)
    assert stored.vcard_source == "" and stored.dav_name == ""


def test_a_card_sent_back_unchanged_keeps_the_version_despite_web_form_line_breaks(personas):
    contact = rapport_contact(personas.owner, remarks="Typed in a browser:\r\nline two", title="Buyer ")
    version = reload(contact).version
    again = put(personas.owner, text_of(contact), contact=reload(contact), href=f"{contact.uid}.vcf")
    assert again.version == version
    assert reload(contact).remarks == "Typed in a browser:\r\nline two"


def test_a_company_card_is_named_by_its_whole_name(personas):
    card = crlf("BEGIN:VCARD", "VERSION:4.0", "KIND:org", "UID:company-1", "FN:Nordwind Logistik GmbH",
                "EMAIL:post@nordwind.example", "END:VCARD")
    contact = reload(put(personas.owner, card))
    assert (contact.first_name, contact.last_name) == ("", "Nordwind Logistik GmbH")
    assert text_of(contact) == card


def test_the_text_is_byte_stable_until_the_contact_changes(personas):
    contact = rapport_contact(personas.owner)
    first = text_of(contact)
    assert text_of(contact) == first
    assert f"REV:{reload(contact).updated_at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}" in first
    contact_update(actor=personas.owner, contact=reload(contact), data={"title": "Buyer"}, version=contact.version)
    changed = text_of(contact)
    assert changed != first and "TITLE:Buyer" in changed
    assert text_of(contact) == changed


# --- Cards from clients -----------------------------------------------------------------------------------------


def test_a_vcard_40_keeps_photo_third_email_and_x_properties_through_a_round_trip(personas):
    contact = put(personas.owner, CARD_40, href="jane%40acme.vcf")
    contact = reload(contact)
    assert contact.owner == personas.owner
    assert contact.uid == "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"
    assert contact.dav_name == "jane%40acme.vcf"
    assert (contact.first_name, contact.last_name, contact.title) == ("Jane", "Doe", "Chief Scientist")
    assert (contact.email, contact.secondary_email) == ("jane@home.example", "jane.work@acme.example")
    assert (contact.mobile, contact.phone) == ("+1-555-555-0100", "+1-555-555-0199")
    assert contact.remarks == "Met at the 2023 conference, prefers email."
    assert addresses_of(contact) == [("home", "12 Elm St", "62701", "Springfield", "IL", "USA"),
                                     ("work", "1 Lab Way Suite 4", "62565", "Shelbyville", "IL", "USA")]
    assert contact.account is None  # no account named "Acme Inc." exists: none is made

    # Served back byte for byte: the photo, the third email, the X- properties, ORG, the parameters.
    assert text_of(contact) == CARD_40
    version = contact.version
    again = put(personas.owner, CARD_40, contact=reload(contact), href="jane%40acme.vcf")
    assert again.version == version == reload(contact).version


def test_an_apple_or_davx5_vcard_30_is_read(personas):
    contact = reload(put(personas.owner, APPLE_30))
    assert (contact.first_name, contact.last_name) == ("Anna-Lena", "Berg")
    # The preferred email first, though the client lists it second; the fax is neither phone nor mobile.
    assert (contact.email, contact.secondary_email) == ("anna@nordwind.example", "anna.private@example.com")
    assert (contact.mobile, contact.phone) == ("+47 900 00 000", "+47 22 33 44 55")
    assert addresses_of(contact) == [("home", "Storgata 1", "0155", "Oslo", "", "Norway")]
    assert contact.dav_name == "card.vcf"
    assert text_of(contact) == APPLE_30


def test_an_edit_in_rapport_shows_in_the_card_and_the_photo_stays(personas):
    contact = reload(put(personas.owner, CARD_40))
    contact = contact_update(actor=personas.owner, contact=contact, version=contact.version,
                             data={"email": "jane.doe@newhome.example", "phone": "", "title": "Director"},
                             addresses=[{"kind": "home", "street": "14 Oak Ave", "city": "Springfield",
                                         "region": "IL", "postal_code": "62704", "country": "USA"},
                                        {"kind": "work", "street": "1 Lab Way Suite 4", "city": "Shelbyville",
                                         "region": "IL", "postal_code": "62565", "country": "USA"}])
    text = text_of(contact)
    card = vobject.readOne(text)
    assert card.version.value == "4.0"
    assert {e.value for e in card.email_list} == {"jane.doe@newhome.example", "jane.work@acme.example",
                                                  "jane.old@oldmail.example"}
    assert "EMAIL;TYPE=home;PREF=1:jane.doe@newhome.example\r\n" in text
    assert [t.value for t in card.tel_list] == ["tel:+1-555-555-0100"]  # the phone cleared in Rapport is gone
    assert card.title.value == "Director"
    assert "ADR;TYPE=home:;;14 Oak Ave;Springfield;IL;62704;USA\r\n" in text  # the stale LABEL went with it
    assert "ADR;TYPE=work:;Suite 4;1 Lab Way;Shelbyville;IL;62565;USA\r\n" in text  # unchanged: as written
    for kept in (folded(PHOTO), "N:Doe;Jane;Quinn;Dr.;PhD", "ORG:Acme Inc.;Research",
                 "X-PHONETIC-LAST-NAME:Doh", "X-SOCIALPROFILE;TYPE=twitter:https://twitter.example/janedoe"):
        assert kept + "\r\n" in text
    assert f"REV:{contact.updated_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}\r\n" in text
    assert text_of(contact) == text

    # The client puts the patched card back unchanged: it reads as what Rapport has, no new version.
    version = reload(contact).version
    again = put(personas.owner, text, contact=reload(contact))
    assert again.version == version
    assert (again.email, again.phone, again.title) == ("jane.doe@newhome.example", "", "Director")


def test_an_edit_in_rapport_of_an_apple_card_keeps_its_groups(personas):
    contact = reload(put(personas.owner, APPLE_30))
    contact_update(actor=personas.owner, contact=contact, version=contact.version,
                   data={"secondary_email": "", "mobile": "+47 911 11 111", "last_name": "Berg-Hansen"})
    text = text_of(contact)
    assert "item1.EMAIL" not in text and "item1.X-ABLabel" not in text  # the label went with its email
    assert "item2.EMAIL;type=INTERNET;type=WORK;type=pref:anna@nordwind.example\r\n" in text
    assert "TEL;type=CELL;type=VOICE;type=pref:+47 911 11 111\r\n" in text
    assert "N:Berg-Hansen;Anna-Lena;;;\r\nFN:Anna-Lena Berg-Hansen\r\n" in text
    assert "item3.ADR;type=HOME;type=pref:;;Storgata 1;Oslo;;0155;Norway\r\nitem3.X-ABADR:no\r\n" in text
    assert "TEL;type=WORK;type=FAX:+47 22 33 44 56\r\n" in text


def test_org_links_an_account_the_user_may_see_and_no_other(personas):
    nordwind = AccountFactory(owner=personas.teammate, name="Nordwind Logistik GmbH", visibility=Visibility.TEAM)
    lower_case = APPLE_30.replace("ORG:Nordwind Logistik GmbH;", "ORG:nordwind logistik gmbh;")
    contact = reload(put(personas.owner, lower_case))
    assert contact.account == nordwind

    hidden = AccountFactory(owner=personas.outsider, name="Hidden Holding AS", visibility=Visibility.PRIVATE)
    other = reload(put(personas.outsider, CARD_40.replace("ORG:Acme Inc.;Research", "ORG:Hidden Holding AS")))
    assert other.account == hidden  # its owner may see it
    card = CARD_40.replace("ORG:Acme Inc.;Research", "ORG:Hidden Holding AS").replace("4fbe8971", "00000000")
    stranger = reload(put(personas.owner, card))
    assert stranger.account is None  # another user's private account is neither linked nor revealed
    assert "ORG:Hidden Holding AS\r\n" in text_of(stranger)  # what the client wrote stays
    from rapport.directory.models import Account
    assert Account.objects.filter(name__iexact="acme inc.").count() == 0  # no account made from ORG


def test_linking_an_account_in_rapport_writes_its_name_into_the_card(personas):
    contact = reload(put(personas.owner, CARD_40))
    account = AccountFactory(owner=personas.owner, name="Acme Research Labs")
    contact_update(actor=personas.owner, contact=contact, version=contact.version, data={"account": account})
    assert "ORG:Acme Research Labs;Research\r\n" in text_of(contact)


BAD_CARDS = {
    "not a vCard": ("Hello, this is not a card.", "BEGIN:VCARD"),
    "no UID": (crlf("BEGIN:VCARD", "VERSION:3.0", "N:Doe;John;;;", "FN:John Doe", "END:VCARD"), "UID"),
    "no name": (crlf("BEGIN:VCARD", "VERSION:3.0", "UID:nameless-1", "EMAIL:x@example.com", "END:VCARD"), "FN"),
    "two cards": (crlf("BEGIN:VCARD", "VERSION:3.0", "UID:a-1", "FN:A", "N:A;;;;", "END:VCARD",
                       "BEGIN:VCARD", "VERSION:3.0", "UID:b-1", "FN:B", "N:B;;;;", "END:VCARD"), "more than one"),
    "not closed": (crlf("BEGIN:VCARD", "VERSION:3.0", "UID:open-1", "FN:Open"), "END:VCARD"),
    "a broken line": (crlf("BEGIN:VCARD", "VERSION:3.0", "UID:broken-1", "FN:Broken", "this line has no colon",
                           "END:VCARD"), "this line has no colon"),
    "vCard 2.1": (crlf("BEGIN:VCARD", "VERSION:2.1", "UID:old-1", "N:Old;Card", "END:VCARD"), "VERSION"),
    "damaged photo": (crlf("BEGIN:VCARD", "VERSION:3.0", "UID:photo-1", "FN:Pic", "N:Pic;;;;",
                           "PHOTO;ENCODING=b;TYPE=JPEG:@@@notbase64", "END:VCARD"), "cannot be read"),
}


@pytest.mark.parametrize("case", sorted(BAD_CARDS))
def test_a_bad_card_is_refused_and_nothing_is_stored(personas, case):
    text, named = BAD_CARDS[case]
    contact = reload(put(personas.owner, APPLE_30))
    count = Contact.objects.count()
    with pytest.raises(DavRefusal) as refused:
        put(personas.owner, text)
    assert refused.value.status == 400 and named in refused.value.message
    assert Contact.objects.count() == count

    # Nor does it change the contact it was to replace.
    with pytest.raises(DavRefusal) as refused:
        put(personas.owner, text, contact=reload(contact))
    assert refused.value.status == 400
    stored = reload(contact)
    assert (stored.version, stored.vcard_source) == (contact.version, APPLE_30)


def test_a_uid_that_is_another_contacts_is_a_conflict(personas):
    first = reload(put(personas.owner, APPLE_30))
    with pytest.raises(DavRefusal) as refused:
        put(personas.owner, APPLE_30, href="other-name.vcf")
    assert refused.value.status == 409 and first.uid in refused.value.message
    other = rapport_contact(personas.owner)
    with pytest.raises(DavRefusal) as refused:
        put(personas.owner, APPLE_30, contact=reload(other))
    assert refused.value.status == 409
    assert Contact.objects.filter(uid=first.uid).count() == 1


def test_a_replace_needs_the_right_to_change_the_contact(personas):
    contact = reload(put(personas.owner, APPLE_30))
    with pytest.raises(DavRefusal) as refused:
        put(personas.viewer, APPLE_30.replace("Berg;", "Changed;"), contact=reload(contact))
    assert refused.value.status == 403
    assert reload(contact).last_name == "Berg"


def test_a_value_rapport_cannot_store_stays_in_the_card(personas):
    text = APPLE_30.replace("anna.private@example.com", "not-an-address").replace(
        "FN:Anna-Lena Berg", "FN:Anna-Lena Berg\r\nTITLE:" + "Very long title " * 10)
    contact = reload(put(personas.owner, text))
    assert (contact.email, contact.secondary_email) == ("anna@nordwind.example", "")
    assert len(contact.title) == 100
    assert text_of(contact) == text  # the clipped title and the skipped email are no change


# --- Many contacts ----------------------------------------------------------------------------------------------


def contacts_with_cards(owner, count: int) -> list[Contact]:
    for number in range(count):
        account = AccountFactory(owner=owner) if number % 2 else None
        contact = ContactFactory(owner=owner, account=account, email=f"c{number}@example.com")
        Address.objects.create(contact=contact, kind="work", street=f"Street {number}", city="Oslo")
        if number % 3 == 0:
            Contact.objects.filter(pk=contact.pk).update(
                vcard_source=APPLE_30.replace("6B29FC40", f"{number:08d}").replace("Storgata 1", f"Street {number}"))
    return list(Contact.objects.select_related("account").filter(owner=owner).order_by("id"))


def queries_for(contacts: list[Contact]) -> int:
    with CaptureQueriesContext(connection) as queries:
        texts = contact_texts(contacts)
    assert len(texts) == len(contacts)
    return len(queries)


def test_two_hundred_contacts_cost_the_same_queries_as_two(personas):
    few = contacts_with_cards(personas.owner, 2)
    many = contacts_with_cards(personas.teammate, 200)
    assert queries_for(many) == queries_for(few) <= 3
