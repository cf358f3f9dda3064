"""Serial letters: one letter (page, section) per recipient as PDF and DOCX, names with accents and
in other scripts, the postal address (the contact's main one, else the account's), the cap, and what is
refused."""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import ValidationError
from docx import Document

from rapport.core.models import Visibility
from rapport.directory.models import Address, Contact
from rapport.templating import documents, services
from rapport.templating.merge import ADDRESS_KEY, merge_values
from rapport.templating.models import Template
from tests.factories import AccountFactory, ContactFactory, TemplateFactory

pytestmark = pytest.mark.django_db

NAMES = [("Şule", "Yılmaz"), ("Zoë", "Müller"), ("Дмитрий", "Иванов"), ("Νίκος", "Παπαδόπουλος")]
LETTER = ("Dear {{ contact.first_name }},\n\nthank you for visiting {{ account.name }}.\n"
          "A value is never expanded: {{ contact.title }}\n\n{{ user.signature }}")


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page (pypdf), or as many empty strings as the page tree counts."""
    assert content.startswith(b"%PDF-")
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is a test convenience
        count = max(int(n) for n in re.findall(rb"/Type\s*/Pages.*?/Count\s+(\d+)", content, re.S))
        return [""] * count
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


@pytest.fixture
def letter(personas) -> Template:
    return TemplateFactory(owner=personas.owner, kind="letter", name="Visit thanks", subject="Your visit",
                           body=LETTER)


@pytest.fixture
def recipients(personas) -> list[Contact]:
    account = AccountFactory(name="Acme Ünited", owner=personas.owner)
    Address.objects.create(account=account, kind="main", street="Hauptstraße 1", postal_code="50667", city="Köln",
                           country="Deutschland")
    people = []
    for index, (first, last) in enumerate(NAMES):
        contact = ContactFactory(first_name=first, last_name=last, account=account, owner=personas.owner,
                                 title="{{ user.email }}")
        if index == 0:
            Address.objects.create(contact=contact, kind="home", street="Gül Sokak 3", city="İstanbul",
                                   country="Türkiye")
        people.append(contact)
    return people


def test_pdf_one_page_per_recipient_with_names_and_addresses(personas, letter, recipients):
    personas.owner.signature = "Mit freundlichen Grüßen\nOwner Österreich"
    result = services.serial_letters(user=personas.owner, template=letter, fmt="pdf",
                                     contacts=Contact.objects.filter(pk__in=[c.pk for c in recipients]))
    assert result.content_type == "application/pdf" and result.filename == "visit-thanks-letters.pdf"
    assert result.count == 4
    pages = pdf_pages(result.content)
    assert len(pages) == 4
    if pages[0]:
        sule = next(page for page in pages if "Şule Yılmaz" in page)
        assert "Gül Sokak 3" in sule and "İstanbul" in sule and "Hauptstraße" not in sule  # her own address
        zoe = next(page for page in pages if "Zoë Müller" in page)
        assert "Hauptstraße 1" in zoe and "50667 Köln" in zoe  # the account's
        assert "Dear Zoë," in zoe and "Acme Ünited" in zoe and "Your visit" in zoe
        assert "A value is never expanded: {{ user.email }}" in zoe
        assert "Mit freundlichen Grüßen" in zoe
        assert any("Дмитрий Иванов" in page for page in pages)
        assert any("Νίκος Παπαδόπουλος" in page for page in pages)


def test_docx_one_section_per_recipient(personas, letter, recipients):
    result = services.serial_letters(user=personas.owner, template=letter, fmt="docx",
                                     contacts=Contact.objects.all())
    assert result.filename.endswith(".docx") and "wordprocessingml" in result.content_type
    document = Document(io.BytesIO(result.content))
    assert len(document.sections) == 4
    from docx.enum.section import WD_SECTION

    assert all(section.start_type == WD_SECTION.NEW_PAGE for section in document.sections[1:])
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    for first, last in NAMES:
        assert f"{first} {last}" in text and f"Dear {first}," in text
    assert "Gül Sokak 3" in text and "Hauptstraße 1" in text
    assert text.count("{{ user.email }}") == 4  # a value is inserted as written


def test_unprintable_characters_do_not_break_the_documents(personas):
    template = TemplateFactory(kind="letter", owner=personas.owner, subject="", body="{{ contact.last_name }}")
    values = merge_values(extra={"contact.last_name": "A\x00B\x0bC\ud800D" + "x" * 3000 + " 🙂 中文",
                                 "contact.full_name": "N\x07ame", ADDRESS_KEY: "Line\x01 1\nLine 2"})
    assert len(pdf_pages(documents.letters_pdf(template, [values]))) >= 1
    document = Document(io.BytesIO(documents.letters_docx(template, [values])))
    assert "ABCD" in document.paragraphs[-1].text or any("ABCD" in p.text for p in document.paragraphs)


def test_only_letter_templates_and_known_formats(personas, recipients):
    email = TemplateFactory(owner=personas.owner)
    with pytest.raises(ValidationError) as caught:
        services.serial_letters(user=personas.owner, template=email, contacts=Contact.objects.all(), fmt="pdf")
    assert "template" in caught.value.message_dict
    letter = TemplateFactory(owner=personas.owner, kind="letter")
    with pytest.raises(ValidationError) as caught:
        services.serial_letters(user=personas.owner, template=letter, contacts=Contact.objects.all(), fmt="odt")
    assert caught.value.message_dict == {"format": ["Choose pdf or docx."]}
    with pytest.raises(ValidationError) as caught:
        services.serial_letters(user=personas.owner, template=letter, contacts=Contact.objects.none(), fmt="pdf")
    assert "contacts" in caught.value.message_dict


def test_contacts_the_user_may_not_see_get_no_letter(personas, letter):
    ContactFactory(first_name="Hidden", owner=personas.outsider, visibility=Visibility.PRIVATE)
    ContactFactory(first_name="Shown", owner=personas.owner)
    result = services.serial_letters(user=personas.owner, template=letter, contacts=Contact.objects.all(),
                                     fmt="docx")
    assert result.count == 1


def test_the_cap(personas, letter, monkeypatch):
    monkeypatch.setattr(documents, "MAX_LETTERS", 2)
    for _ in range(3):
        ContactFactory(owner=personas.owner)
    with pytest.raises(ValidationError) as caught:
        services.serial_letters(user=personas.owner, template=letter, contacts=Contact.objects.all(), fmt="pdf")
    assert caught.value.message_dict == {"contacts": ["One document holds at most 2 letters; choose a smaller list."]}
    with pytest.raises(documents.TooManyLetters):
        documents.letters_docx(letter, [{}] * 3)


def test_no_font_is_a_clear_refusal(personas, letter, monkeypatch):
    ContactFactory(owner=personas.owner)
    monkeypatch.setattr(documents, "_font_paths", lambda: (None, None, ()))
    with pytest.raises(ValidationError) as caught:
        services.serial_letters(user=personas.owner, template=letter, contacts=Contact.objects.all(), fmt="pdf")
    assert "fonts-dejavu-core" in caught.value.message_dict["format"][0]
    # DOCX needs no font.
    assert services.serial_letters(user=personas.owner, template=letter, contacts=Contact.objects.all(),
                                   fmt="docx").count == 1


def test_queries_do_not_grow_with_recipients(personas, letter, django_assert_max_num_queries):
    from rapport.core.access import access_for

    account = AccountFactory(owner=personas.owner)
    for index in range(30):
        contact = ContactFactory(owner=personas.owner, account=account if index % 2 else None)
        Address.objects.create(contact=contact, city=f"City {index}")
    access_for(personas.owner)
    # The contacts with their accounts (1), both records' addresses (2).
    with django_assert_max_num_queries(3):
        services.serial_letters(user=personas.owner, template=letter, contacts=Contact.objects.all(), fmt="docx")


def test_right_to_left_names_are_shaped_when_harfbuzz_is_there(personas):
    template = TemplateFactory(kind="letter", owner=personas.owner, subject="", body="Dear {{ contact.full_name }}")
    arabic = merge_values(extra={"contact.full_name": "محمد علي", ADDRESS_KEY: "שלום 1"})
    latin = merge_values(extra={"contact.full_name": "Zoë Müller", ADDRESS_KEY: "Дом 1"})
    assert documents._needs_shaping(template, [latin, arabic]) and not documents._needs_shaping(template, [latin])
    pages = pdf_pages(documents.letters_pdf(template, [arabic, latin]))
    assert len(pages) == 2 and (not pages[1] or "Zoë Müller" in pages[1])


def test_docx_pages_are_a4(personas, letter):
    from docx.shared import Mm

    values = merge_values(extra={"contact.full_name": "Zoë Müller"})
    document = Document(io.BytesIO(documents.letters_docx(letter, [values, values])))
    assert all(abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
               for section in document.sections)
