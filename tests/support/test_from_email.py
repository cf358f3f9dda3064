"""Items customers open by email: the function the mail intake calls."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from rapport.activities.models import Note
from rapport.core.models import User
from rapport.support import services
from rapport.support.models import PrivateCopy, SupportItem, SupportSource, SupportStatus
from tests.factories import UserFactory
from tests.support import Desk, build_desk, open_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db) -> Desk:
    return build_desk()


def test_a_known_contacts_email_opens_an_item_for_them_owned_by_the_first_support_user(desk):
    item = services.support_item_from_email(sender="  PAT@Acme.example ", subject="Broken  again",
                                            body="It broke.")
    assert item.contact == desk.contact and item.account == desk.account
    assert item.source == SupportSource.EMAIL and item.status == SupportStatus.NEW
    assert item.subject == "Broken again" and item.description == "It broke."
    first_support = User.objects.filter(roles__slug="support", is_active=True).order_by("id").first()
    assert item.owner == first_support == desk.owner
    assert item.reference.startswith("SUP-")
    assert PrivateCopy.objects.filter(item=item, holder=desk.owner).exists()


def test_the_intake_user_comes_from_the_setting(desk, settings):
    settings.RAPPORT_SUPPORT_OWNER = desk.cy.username
    item = services.support_item_from_email(sender="pat@acme.example", subject="Hello", body="Hi")
    assert item.owner == desk.cy


def test_an_inactive_intake_user_falls_back_to_the_first_support_user(desk, settings):
    desk.cy.is_active = False
    desk.cy.save()
    settings.RAPPORT_SUPPORT_OWNER = desk.cy.username
    item = services.support_item_from_email(sender="pat@acme.example", subject="Hello", body="Hi")
    assert item.owner == desk.owner


def test_an_unknown_sender_opens_an_item_without_contact_naming_the_sender(desk):
    item = services.support_item_from_email(sender="stranger@nowhere.example", subject="Help",
                                            body="Who are you people?", sender_name="Sam Stranger")
    assert item.contact is None and item.account is None
    assert "Sam Stranger" in item.description and "Who are you people?" in item.description
    item = services.support_item_from_email(sender="stranger@nowhere.example", subject="Help", body="Again")
    assert "stranger@nowhere.example" in item.description


def test_the_reference_in_the_subject_adds_a_note_to_that_item(desk):
    item = open_item(desk)
    count = SupportItem.objects.count()
    same = services.support_item_from_email(sender="pat@acme.example",
                                            subject=f"Re: [{item.reference.lower()}] Printer on fire",
                                            body="Still burning.")
    assert same == item and SupportItem.objects.count() == count
    note = Note.objects.get(about_type="support_item", about_id=item.pk)
    assert "Still burning." in note.body and "pat@acme.example" in note.body


def test_an_unknown_reference_opens_a_new_item(desk):
    item = services.support_item_from_email(sender="pat@acme.example", subject="Re: [SUP-999999] Hello", body="Hi")
    assert item.subject == "Re: [SUP-999999] Hello" and item.contact == desk.contact
    assert not Note.objects.exists()


def test_an_empty_subject_gets_a_placeholder(desk):
    item = services.support_item_from_email(sender="pat@acme.example", subject="   ", body="")
    assert item.subject


def test_without_any_user_to_own_it_the_mail_is_refused(db):
    UserFactory(role_slugs="sales")
    with pytest.raises(ValidationError):
        services.support_item_from_email(sender="pat@acme.example", subject="Hello", body="Hi")
    assert not SupportItem.objects.exists()
