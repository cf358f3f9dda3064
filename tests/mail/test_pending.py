"""Pending email by hand: filing a message to records (and again), making a contact of its sender,
discarding and restoring it; who may, stale versions, and what a refusal leaves (nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from rapport.activities import selectors as activity_selectors
from rapport.activities.models import Activity, ActivityAssignee, ActivityLink, ActivityStatus
from rapport.core.errors import Conflict, PossibleDuplicate, StaleVersion
from rapport.directory.models import Contact
from rapport.mail import selectors, services
from rapport.mail.models import EmailMessage, EmailStatus, LoggingAddress
from tests.conftest import client_for
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EmailMessageFactory,
    OpportunityFactory,
    SupportItemFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


def fresh(email: EmailMessage) -> EmailMessage:
    return EmailMessage.objects.select_related("activity").get(pk=email.pk)


# --- Filing -------------------------------------------------------------------------------------------


def test_filing_makes_an_email_activity_about_the_records_and_the_contacts_account(personas):
    owner = personas.owner
    account = AccountFactory(owner=owner, name="Fjord Freight")
    contact = ContactFactory(owner=owner, account=account, email="anna@example.com")
    email = EmailMessageFactory(owner=owner, subject="Quote", text_body="Please send a quote.")

    services.email_file(actor=owner, email=email, records=[contact], version=email.version)

    email = fresh(email)
    assert email.status == EmailStatus.FILED and email.pending_reason == ""
    activity = email.activity
    assert activity.subject == "Quote" and activity.description == "Please send a quote."
    assert activity.status == ActivityStatus.COMPLETED and activity.kind.key == "email"
    assert activity.owner == owner and activity.visibility == email.visibility
    assert set(ActivityLink.objects.filter(activity=activity).values_list("record_type", "record_id")) == {
        ("contact", contact.pk), ("account", account.pk)}
    # It shows on the contact's and the account's pages, and on nobody's calendar.
    assert activity in activity_selectors.activities_about(user=owner, record=contact)
    assert activity in activity_selectors.activities_about(user=owner, record=account)
    assert not ActivityAssignee.objects.filter(activity=activity).exists()


def test_filing_again_replaces_the_records_and_keeps_one_activity(personas):
    owner = personas.owner
    first, second = AccountFactory(owner=owner), AccountFactory(owner=owner)
    email = EmailMessageFactory(owner=owner)
    services.email_file(actor=owner, email=email, records=[first])
    email = fresh(email)
    activity_id = email.activity_id
    services.email_file(actor=owner, email=email, records=[second], version=email.version)
    email = fresh(email)
    assert email.activity_id == activity_id
    assert list(ActivityLink.objects.filter(activity_id=activity_id).values_list("record_id", flat=True)) == [second.pk]
    assert Activity.objects.filter(email__isnull=False).count() == 1


def test_filing_to_deals_and_support_items(personas):
    owner = personas.owner
    deal = OpportunityFactory(owner=owner)
    case = SupportItemFactory(owner=owner)
    email = EmailMessageFactory(owner=owner)
    services.email_file(actor=owner, email=email, records=[deal, case, deal])
    links = set(ActivityLink.objects.filter(activity=fresh(email).activity).values_list("record_type", "record_id"))
    assert links == {("opportunity", deal.pk), ("support_item", case.pk)}


def test_a_message_whose_activity_was_deleted_gets_a_new_one(personas):
    from rapport.activities.services import activity_delete

    owner = personas.owner
    account = AccountFactory(owner=owner)
    email = EmailMessageFactory(owner=owner)
    services.email_file(actor=owner, email=email, records=[account])
    old = fresh(email).activity
    activity_delete(actor=owner, activity=old)
    services.email_file(actor=owner, email=fresh(email), records=[account])
    assert fresh(email).activity_id != old.pk


@pytest.mark.parametrize("records", [[], "activity"])
def test_filing_to_nothing_or_to_another_kind_of_record_is_refused(personas, records):
    owner = personas.owner
    email = EmailMessageFactory(owner=owner)
    if records == "activity":
        records = [ActivityFactory(owner=owner)]
    with pytest.raises(ValidationError) as caught:
        services.email_file(actor=owner, email=email, records=records)
    assert "records" in caught.value.message_dict
    assert fresh(email).status == EmailStatus.PENDING and fresh(email).version == email.version


def test_a_stale_version_is_refused_and_changes_nothing(personas):
    owner = personas.owner
    account = AccountFactory(owner=owner)
    email = EmailMessageFactory(owner=owner)
    with pytest.raises(StaleVersion):
        services.email_file(actor=owner, email=email, records=[account], version=email.version + 5)
    assert fresh(email).activity_id is None and not Activity.objects.exists()


def test_only_those_who_may_change_the_owners_records_file(personas):
    owner = personas.owner
    account = AccountFactory(owner=owner)
    email = EmailMessageFactory(owner=owner, visibility="everyone")
    for who in (personas.teammate, personas.viewer, personas.outsider):
        with pytest.raises(PermissionDenied):
            services.email_file(actor=who, email=email, records=[account])
    assert not Activity.objects.exists()
    services.email_file(actor=personas.manager, email=email, records=[account])  # manages the owner's team
    assert fresh(email).status == EmailStatus.FILED and fresh(email).activity.owner == owner


def test_a_discarded_message_can_be_filed(personas):
    owner = personas.owner
    email = EmailMessageFactory(owner=owner, status=EmailStatus.DISCARDED)
    services.email_file(actor=owner, email=email, records=[AccountFactory(owner=owner)])
    assert fresh(email).status == EmailStatus.FILED


# --- Discard and restore ------------------------------------------------------------------------------


def test_discard_and_restore(personas):
    owner = personas.owner
    email = EmailMessageFactory(owner=owner, pending_reason="several")
    services.email_discard(actor=owner, email=email, version=email.version)
    email = fresh(email)
    assert email.status == EmailStatus.DISCARDED
    assert selectors.pending_email_count(owner) == 0
    services.email_restore(actor=owner, email=email, version=email.version)
    email = fresh(email)
    assert email.status == EmailStatus.PENDING and email.pending_reason == "several"
    assert selectors.pending_email_count(owner) == 1


def test_only_pending_is_discarded_and_only_discarded_restored(personas):
    owner = personas.owner
    filed = EmailMessageFactory(owner=owner)
    services.email_file(actor=owner, email=filed, records=[AccountFactory(owner=owner)])
    with pytest.raises(Conflict):
        services.email_discard(actor=owner, email=fresh(filed))
    with pytest.raises(Conflict):
        services.email_restore(actor=owner, email=EmailMessageFactory(owner=owner))
    stale = EmailMessageFactory(owner=owner)
    with pytest.raises(StaleVersion):
        services.email_discard(actor=owner, email=stale, version=stale.version + 1)
    with pytest.raises(PermissionDenied):
        services.email_discard(actor=personas.teammate, email=stale)
    assert fresh(stale).status == EmailStatus.PENDING


# --- A contact from the sender --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "address", "first", "last"), [
    ("Anna Berg", "anna@example.com", "Anna", "Berg"),
    ("Berg, Anna", "anna@example.com", "Anna", "Berg"),
    ("Anna Maria von Berg", "anna@example.com", "Anna Maria von", "Berg"),
    ('"Cher"', "cher@example.com", "", "Cher"),
    ("", "jean-luc.picard@example.com", "Jean Luc", "Picard"),
    ("jean@example.com", "jean@example.com", "", "Jean"),
])
def test_the_senders_name_becomes_the_contacts(name, address, first, last):
    email = EmailMessage(from_name=name, from_address=address)
    assert selectors.contact_defaults(email) == {"first_name": first, "last_name": last, "email": address}


def test_create_contact_from_the_sender_files_the_message_to_them(personas):
    owner = personas.owner
    account = AccountFactory(owner=owner, name="Fjord Freight")
    email = EmailMessageFactory(owner=owner, from_name="Anna Berg", from_address="Anna@Example.com")
    _email, contact = services.email_create_contact(actor=owner, email=email, data={"account": account},
                                                    version=email.version)
    assert (contact.first_name, contact.last_name, contact.email, contact.account) == (
        "Anna", "Berg", "Anna@Example.com", account)
    assert contact.owner == owner
    email = fresh(email)
    assert email.status == EmailStatus.FILED
    assert set(ActivityLink.objects.filter(activity=email.activity).values_list("record_type", "record_id")) == {
        ("contact", contact.pk), ("account", account.pk)}


def test_create_contact_stops_at_a_duplicate_unless_confirmed(personas):
    owner = personas.owner
    ContactFactory(owner=owner, email="anna@example.com", visibility="everyone")
    email = EmailMessageFactory(owner=owner, from_address="anna@example.com")
    with pytest.raises(PossibleDuplicate):
        services.email_create_contact(actor=owner, email=email, data={})
    assert Contact.objects.count() == 1 and fresh(email).status == EmailStatus.PENDING
    services.email_create_contact(actor=owner, email=email, data={}, confirm_duplicate=True)
    assert Contact.objects.count() == 2


def test_create_contact_refusals_change_nothing(personas):
    owner = personas.owner
    email = EmailMessageFactory(owner=owner, from_name="", from_address="")
    with pytest.raises(ValidationError) as caught:
        services.email_create_contact(actor=owner, email=email, data={})
    assert "last_name" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.email_create_contact(actor=owner, email=email, data={"last_name": "X", "email": "not an address"})
    with pytest.raises(ValidationError):
        services.email_create_contact(actor=owner, email=email, data={"last_name": "X", "title": "CEO"})
    with pytest.raises(PermissionDenied):
        services.email_create_contact(actor=personas.teammate, email=email, data={"last_name": "X"})
    with pytest.raises(StaleVersion):
        services.email_create_contact(actor=owner, email=email, data={"last_name": "X"}, version=email.version + 1)
    assert not Contact.objects.exists() and fresh(email).status == EmailStatus.PENDING


# --- Reads: suggestions, the panel, the thread, logging addresses --------------------------------------


@override_settings(RAPPORT_MAIL_DOMAIN="crm.example.org", RAPPORT_SUPPORT_ADDRESS="support@crm.example.org")
def test_suggestions_are_the_visible_contacts_and_accounts_the_message_names(personas):
    owner = personas.owner
    anna = ContactFactory(owner=owner, email="anna@example.com")
    bo = ContactFactory(owner=owner, secondary_email="bo@example.com")
    firm = AccountFactory(owner=owner, email="info@example.com")
    ContactFactory(owner=personas.outsider, email="cc@example.com", visibility="private")  # hidden from owner
    email = EmailMessageFactory(owner=owner, from_address="ANNA@example.com",
                                to=["log-abc@crm.example.org", "bo@example.com", "support@crm.example.org"],
                                cc=["info@example.com", "cc@example.com"])
    assert selectors.message_addresses(email) == ["anna@example.com", "bo@example.com", "info@example.com",
                                                  "cc@example.com"]
    assert {r.ref for r in selectors.email_suggestions(user=owner, email=email)} == {anna.ref, bo.ref, firm.ref}
    assert {r.ref for r in selectors.suggestions_for(user=owner, emails=[email])[email.pk]} == {
        anna.ref, bo.ref, firm.ref}


def test_the_pending_panel_is_the_users_own_newest_first(personas):
    owner = personas.owner
    now = dt.datetime.now(dt.UTC)
    old = EmailMessageFactory(owner=owner, received_at=now - dt.timedelta(days=2))
    new = EmailMessageFactory(owner=owner, received_at=now)
    EmailMessageFactory(owner=owner, status=EmailStatus.FILED)
    EmailMessageFactory(owner=owner, status=EmailStatus.DISCARDED)
    EmailMessageFactory(owner=personas.teammate, visibility="everyone")
    assert selectors.pending_emails(user=owner) == [new, old]
    assert selectors.pending_email_count(owner) == 2


def test_the_thread_is_what_the_user_may_see(personas):
    owner = personas.owner
    first = EmailMessageFactory(owner=owner, message_id="a@x", thread_key="a@x", visibility="everyone")
    reply = EmailMessageFactory(owner=personas.teammate, message_id="b@x", thread_key="a@x", visibility="everyone")
    private = EmailMessageFactory(owner=personas.outsider, message_id="c@x", thread_key="a@x", visibility="private")
    assert selectors.email_thread(user=owner, email=first) == [reply]
    assert set(selectors.email_thread(user=personas.admin, email=first)) == {reply, private}


def test_the_logging_address_is_made_once_and_leads_back_to_its_user(personas, settings):
    settings.RAPPORT_MAIL_DOMAIN = "crm.example.org"
    address = selectors.logging_address(personas.owner)
    assert address == selectors.logging_address(personas.owner)
    assert address.startswith("log-") and address.endswith("@crm.example.org")
    assert LoggingAddress.objects.filter(user=personas.owner).count() == 1
    assert selectors.user_for_logging_address(f"<{address.upper()}>") == personas.owner
    assert selectors.user_for_logging_address("log-nothing@crm.example.org") is None
    assert selectors.logging_address(personas.teammate) != address


def test_the_email_activitys_page_leads_to_the_message(personas):
    owner = personas.owner
    contact = ContactFactory(owner=owner, email="anna@example.com")
    email = EmailMessageFactory(owner=owner, subject="Quote")
    services.email_file(actor=owner, email=email, records=[contact], version=email.version)
    email = fresh(email)

    page = client_for(owner).get(f"/activities/{email.activity.public_id}/").content.decode()

    assert f'href="/emails/{email.public_id}/"' in page and "This activity is a logged email." in page
    other = client_for(owner).get(f"/activities/{ActivityFactory(owner=owner).public_id}/").content.decode()
    assert "logged email" not in other


def test_mail_the_owner_sent_offers_its_recipient_as_the_new_contact(personas):
    email = EmailMessageFactory(owner=personas.owner, direction="out", from_address="owner@example.net",
                                from_name="The Owner", to=["Jana Novák <jana.novak@prospect.example>", "x@y.example"])

    assert selectors.contact_defaults(email) == {
        "first_name": "Jana", "last_name": "Novák", "email": "jana.novak@prospect.example"}
