"""Replies and bounces of a campaign's messages, as inbound mail brings them (rapport.mail.intake calls
campaign_feedback for every message): a reply is logged and marks its recipient replied; a delivery
status report marks its recipient bounced, suppresses the address, and is not logged. Only a real
delivery report counts: a failure header anyone can write, or a report a person sends on, is mail."""

from __future__ import annotations

import pytest

from rapport.campaigns import services
from rapport.campaigns.models import CampaignRecipient, RecipientStatus, Suppression
from rapport.mail.intake import log_message
from rapport.mail.models import EmailMessage
from rapport.mail.selectors import logging_address
from rapport.support.models import SupportItem
from tests.campaigns import deliver_all, people, static_list
from tests.factories import CampaignFactory, UserFactory

pytestmark = pytest.mark.django_db


def _sent(personas, smtp_server) -> list:
    owner = personas.owner
    contacts = people(owner, 2, domain="nordwind.example")
    campaign = CampaignFactory(owner=owner, distribution_list=static_list(owner, contacts))
    services.campaign_start(actor=owner, campaign=campaign)
    services.campaign_dispatch()
    deliver_all()
    services.campaign_dispatch()
    return contacts


def test_a_reply_through_the_logging_address_is_logged_and_marks_the_recipient(personas, smtp_server):
    first, _second = _sent(personas, smtp_server)
    sent = smtp_server.to(first.email)[0].message
    raw = (f"From: {first.full_name} <{first.email}>\r\nTo: {logging_address(personas.owner)}\r\n"
           f"Subject: Re: {sent['Subject']}\r\nMessage-ID: <reply-1@nordwind.example>\r\n"
           f"In-Reply-To: {sent['Message-ID']}\r\nReferences: {sent['Message-ID']}\r\n\r\nThanks, tell me more.\r\n")
    result = log_message(raw.encode(), recipients=[logging_address(personas.owner)], source="smtp")
    assert not result.bounce and result.logged == 1
    assert CampaignRecipient.objects.get(contact=first).status == RecipientStatus.REPLIED
    assert not Suppression.objects.exists()


def test_a_delivery_status_report_bounces_the_recipient_and_is_not_logged(personas, smtp_server):
    _first, second = _sent(personas, smtp_server)
    sent = smtp_server.to(second.email)[0].message
    boundary = "dsn-boundary"
    raw = (f"From: Mail Delivery System <MAILER-DAEMON@mx.nordwind.example>\r\n"
           f"To: {logging_address(personas.owner)}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
           f"Message-ID: <dsn-1@mx.nordwind.example>\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"{boundary}\"\r\n\r\n"
           f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
           f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.nordwind.example\r\n"
           f"\r\nFinal-Recipient: rfc822; {second.email}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {sent['Message-ID']}\r\n"
           f"Subject: {sent['Subject']}\r\n--{boundary}--\r\n")
    result = log_message(raw.encode(), recipients=[logging_address(personas.owner)], source="smtp")
    assert result.bounce and result.logged == 0
    assert CampaignRecipient.objects.get(contact=second).status == RecipientStatus.BOUNCED
    assert Suppression.objects.get().email_key == second.email
    assert not EmailMessage.objects.filter(subject__startswith="Undelivered").exists()


def test_a_forged_failure_notice_to_the_support_address_suppresses_nobody(personas, smtp_server, settings):
    # The reviewer's reproduction: anyone could write to the support address with X-Failed-Recipients
    # naming a customer a campaign mailed, and have that customer suppressed from all campaigns.
    _first, second = _sent(personas, smtp_server)
    UserFactory(username="desk", role_slugs="support")
    support = settings.RAPPORT_SUPPORT_ADDRESS
    raw = (f"From: Mallory <mallory@evil.example>\r\nTo: {support}\r\nSubject: Delivery failure\r\n"
           f"Message-ID: <forged-1@evil.example>\r\nX-Failed-Recipients: {second.email}\r\n\r\n"
           f"Your message could not be delivered.\r\n").encode()
    result = log_message(raw, recipients=[support], source="smtp", envelope_sender="mallory@evil.example")
    assert not result.bounce and result.support_item is not None
    assert CampaignRecipient.objects.get(contact=second).status == RecipientStatus.SENT
    assert not Suppression.objects.exists()
    assert SupportItem.objects.get().subject == "Delivery failure"


def test_a_delivery_report_forwarded_by_a_person_is_logged_not_consumed(personas, smtp_server):
    _first, second = _sent(personas, smtp_server)
    raw = (f"From: Mail Delivery System <MAILER-DAEMON@mx.nordwind.example>\r\n"
           f"To: {logging_address(personas.owner)}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
           f"Message-ID: <dsn-2@mx.nordwind.example>\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
           f"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.nordwind.example\r\n"
           f"\r\nFinal-Recipient: rfc822; {second.email}\r\nAction: failed\r\nStatus: 5.1.1\r\n--B--\r\n").encode()
    # Sent on by a person (a non-null envelope sender): mail, not a delivery report.
    result = log_message(raw, recipients=[logging_address(personas.owner)], source="smtp",
                         envelope_sender="someone@nordwind.example")
    assert not result.bounce and result.logged == 1 and not Suppression.objects.exists()
    # From the mail system itself (the null sender): the address alone is enough for a real report.
    again = log_message(raw.replace(b"dsn-2@", b"dsn-3@"), recipients=[logging_address(personas.owner)],
                        source="smtp", envelope_sender="")
    assert again.bounce and Suppression.objects.get().email_key == second.email
