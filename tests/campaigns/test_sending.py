"""Sending a campaign through the outbox to a real SMTP server on 127.0.0.1: the recipients fixed at the
start, the rate per minute, the unsubscribe link end to end, cancelling, and what replies and bounces
(rapport.campaigns.services.campaign_feedback) do."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from rapport.campaigns import selectors, services
from rapport.campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus, Suppression
from rapport.core.errors import Conflict
from rapport.mail.models import OutboxMessage, OutboxStatus
from tests.campaigns import deliver_all, people, static_list
from tests.factories import CampaignFactory, ContactFactory, DistributionListFactory, TemplateFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
LINK = re.compile(r"https?://\S+/unsubscribe/([a-z2-7]+)/")


def _campaign(owner, contacts, **fields) -> Campaign:
    template = fields.pop("template", None) or TemplateFactory(
        owner=owner, subject="News for {{ contact.first_name }}",
        body="Hello {{ contact.full_name }},\n\nOur news.\n\n{{ user.full_name }}")
    return CampaignFactory(owner=owner, distribution_list=static_list(owner, contacts), template=template, **fields)


def _counts(campaign: Campaign) -> dict[str, int]:
    return {status: n for status, n in selectors.recipient_counts(campaign=campaign).items() if n}


def _status(contact) -> str:
    return CampaignRecipient.objects.get(contact=contact).status


# --- The campaign of the issue ------------------------------------------------------------------------


def test_a_campaign_to_1000_people_with_one_unsubscribed_reaches_999_once_each(personas, smtp_server):
    owner = personas.owner
    crowd = people(owner, 1000)
    twin = ContactFactory(owner=owner, first_name="Zed", last_name="Zwilling", email="PERSON0007@Example.com")
    Suppression.objects.create(email_key="person0500@example.com", reason="unsubscribed")
    campaign = _campaign(owner, [*crowd, twin], rate_per_minute=1000)

    services.campaign_start(actor=owner, campaign=campaign, now=T0)
    assert _counts(campaign) == {"waiting": 999, "skipped": 1}  # the twin's address is person0007's: no row
    skipped = CampaignRecipient.objects.get(status=RecipientStatus.SKIPPED)
    assert skipped.email == "person0500@example.com" and "Unsubscribed" in skipped.skip_reason

    assert services.campaign_dispatch(now=T0) == 999
    assert deliver_all() == 999
    services.campaign_dispatch(now=T0 + dt.timedelta(minutes=1))

    per_address = Counter(rcpt.lower() for received in smtp_server.messages for rcpt in received.rcpt_tos)
    assert len(per_address) == 999 and set(per_address.values()) == {1}
    assert "person0500@example.com" not in per_address
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT and campaign.finished_at == T0 + dt.timedelta(minutes=1)
    assert _counts(campaign) == {"sent": 999, "skipped": 1}
    first = smtp_server.to("person0000@example.com")[0]
    assert first.message["Subject"] == "News for P0000"
    token = CampaignRecipient.objects.get(email="person0000@example.com").token
    assert first.message["List-Unsubscribe"] == f"<http://127.0.0.1:8000/unsubscribe/{token}/>"
    assert first.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/unsubscribe/{token}/" in first.text  # the footer: the template has no {{ unsubscribe_url }}
    assert first.text.startswith("Hello P0000 Person0000,")
    # A second run of the job changes nothing: everything is done.
    assert services.campaign_dispatch(now=T0 + dt.timedelta(minutes=2)) == 0
    assert OutboxMessage.objects.count() == 999


def test_one_recipient_s_unsubscribe_link_tells_nothing_of_the_others(personas):
    # Tokens are secrets, all random: recipients enrolled together do not share a start the way the public
    # ids of one hour do (rapport.core.ids).
    campaign = _campaign(personas.owner, people(personas.owner, 60))
    services.campaign_start(actor=personas.owner, campaign=campaign, now=T0)
    tokens = list(CampaignRecipient.objects.filter(campaign=campaign).values_list("token", flat=True))
    assert len(tokens) == 60 and all(re.fullmatch(r"[a-z2-7]{16}", token) for token in tokens)
    assert len({token[:4] for token in tokens}) > 50


def test_the_rate_is_at_most_rate_per_minute(personas):
    owner = personas.owner
    campaign = _campaign(owner, people(owner, 150), rate_per_minute=60)
    services.campaign_start(actor=owner, campaign=campaign, now=T0)
    assert services.campaign_dispatch(now=T0) == 60
    assert services.campaign_dispatch(now=T0 + dt.timedelta(seconds=30)) == 0
    assert services.campaign_dispatch(now=T0 + dt.timedelta(seconds=57)) == 0
    # The next minute's tick, reaching the worker a moment early, still gets the minute's share.
    early = T0 + dt.timedelta(seconds=58, milliseconds=500)
    assert services.campaign_dispatch(now=early) == 60
    assert services.campaign_dispatch(now=T0 + dt.timedelta(seconds=61)) == 0
    assert _counts(campaign) == {"queued": 120, "waiting": 30}
    assert services.campaign_dispatch(now=T0 + dt.timedelta(seconds=120)) == 30
    assert sorted(set(CampaignRecipient.objects.values_list("queued_at", flat=True))) == [
        T0, early, T0 + dt.timedelta(seconds=120)]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING  # the queued ones are not sent yet


def test_a_large_rate_goes_out_in_several_short_transactions(personas):
    owner = personas.owner
    campaign = _campaign(owner, people(owner, services.DISPATCH_CHUNK * 2 + 5), rate_per_minute=10_000)
    services.campaign_start(actor=owner, campaign=campaign, now=T0)
    assert services.campaign_dispatch(now=T0) == services.DISPATCH_CHUNK * 2 + 5


def test_starting_queues_the_dispatch_job_after_the_commit(personas, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    owner = personas.owner
    campaign = _campaign(owner, people(owner, 3))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.campaign_start(actor=owner, campaign=campaign)
    assert len(callbacks) == 1
    assert DBTaskResult.objects.filter(task_path="rapport.campaigns.tasks.dispatch_campaigns").ready().count() == 1


# --- Who gets it -----------------------------------------------------------------------------------------


def test_people_without_an_address_or_with_a_bad_one_are_skipped_and_the_other_address_is_used(personas):
    owner = personas.owner
    nobody = ContactFactory(owner=owner, last_name="Nobody", email="")
    other = ContactFactory(owner=owner, last_name="Other", email="", secondary_email="Other@Example.com")
    other_too = ContactFactory(owner=owner, last_name="Othertoo", email="")
    bad = ContactFactory(owner=owner, last_name="Bad", email="not an address")
    campaign = _campaign(owner, [nobody, other, other_too, bad])
    services.campaign_start(actor=owner, campaign=campaign)
    rows = {row.contact_id: row for row in CampaignRecipient.objects.all()}
    assert rows[other.pk].email == "other@example.com" and rows[other.pk].status == RecipientStatus.WAITING
    for contact, why in ((nobody, "No email address"), (other_too, "No email address"), (bad, "Not a valid")):
        assert rows[contact.pk].status == RecipientStatus.SKIPPED and why in rows[contact.pk].skip_reason


def test_the_list_is_read_as_the_campaigns_owner_sees_it_whoever_starts_it(personas):
    owner, teammate = personas.owner, personas.teammate
    mine = ContactFactory(owner=owner, last_name="Goldman", email="mine@example.com")
    hidden = ContactFactory(owner=teammate, last_name="Goldberg", email="hidden@example.com", visibility="private")
    dynamic = DistributionListFactory(owner=owner, kind="dynamic", criteria={"q": "gold"})
    assert hidden in selectors.list_contacts(user=personas.manager, distribution_list=dynamic)
    campaign = CampaignFactory(owner=owner, distribution_list=dynamic)
    services.campaign_start(actor=personas.manager, campaign=campaign)
    assert set(CampaignRecipient.objects.values_list("contact_id", flat=True)) == {mine.pk}


def test_the_recipients_are_fixed_at_the_start(personas):
    owner = personas.owner
    first, later = people(owner, 2)
    campaign = _campaign(owner, [first])
    services.campaign_start(actor=owner, campaign=campaign)
    services.list_members_add(actor=owner, distribution_list=campaign.distribution_list, contacts=[later])
    services.campaign_dispatch(now=T0)
    assert list(CampaignRecipient.objects.values_list("contact_id", flat=True)) == [first.pk]


def test_what_cannot_start_says_why_and_changes_nothing(personas):
    owner = personas.owner
    empty = CampaignFactory(owner=owner)
    with pytest.raises(ValidationError) as caught:
        services.campaign_start(actor=owner, campaign=empty)
    assert "Nobody is on" in caught.value.message_dict["distribution_list"][0]
    letter = _campaign(owner, people(owner, 1, prefix="letter"), template=TemplateFactory(owner=owner, kind="letter"))
    with pytest.raises(ValidationError) as caught:
        services.campaign_start(actor=owner, campaign=letter)
    assert "letter template" in caught.value.message_dict["template"][0]
    deleted = _campaign(owner, people(owner, 1, prefix="deleted"),
                        template=TemplateFactory(owner=owner, deleted_at=timezone.now()))
    with pytest.raises(ValidationError):
        services.campaign_start(actor=owner, campaign=deleted)
    no_subject = _campaign(owner, people(owner, 1, prefix="nosub"), template=TemplateFactory(owner=owner, subject=""))
    with pytest.raises(ValidationError):
        services.campaign_start(actor=owner, campaign=no_subject)
    assert not CampaignRecipient.objects.exists()
    assert set(Campaign.objects.values_list("status", flat=True)) == {"draft"}
    ok = _campaign(owner, people(owner, 1, prefix="ok"))
    with pytest.raises(PermissionDenied):
        services.campaign_start(actor=personas.teammate, campaign=ok)
    services.campaign_start(actor=owner, campaign=ok)
    with pytest.raises(Conflict):
        services.campaign_start(actor=owner, campaign=ok)
    with pytest.raises(Conflict):
        services.campaign_update(actor=owner, campaign=Campaign.objects.get(pk=ok.pk), data={"name": "Late"},
                                 version=ok.version + 1)
    with pytest.raises(Conflict):
        services.campaign_delete(actor=owner, campaign=Campaign.objects.get(pk=ok.pk))


def test_campaign_fields_are_checked(personas):
    owner = personas.owner
    base = CampaignFactory(owner=owner)
    for data, field in (({"rate_per_minute": 0}, "rate_per_minute"), ({"rate_per_minute": 10_001}, "rate_per_minute"),
                        ({"from_email": "Sales <sales@example.com>\r\nBcc: x@example.com"}, "from_email"),
                        ({"from_email": "not an address"}, "from_email"),
                        ({"template": TemplateFactory(owner=owner, kind="letter")}, "template"),
                        ({"status": "sent"}, "status")):
        with pytest.raises(ValidationError) as caught:
            services.campaign_update(actor=owner, campaign=base, data=data, version=base.version)
        assert field in caught.value.message_dict, data
    saved = services.campaign_update(actor=owner, campaign=base, data={"from_email": " Sales <sales@example.com> "},
                                     version=base.version)
    assert saved.from_email == "Sales <sales@example.com>"


# --- The unsubscribe link ------------------------------------------------------------------------------


def test_the_unsubscribe_link_works_end_to_end_and_for_good(personas, smtp_server):
    owner = personas.owner
    anna = ContactFactory(owner=owner, first_name="Anna", last_name="Secretname", email="anna@example.com")
    bert = ContactFactory(owner=owner, first_name="Bert", last_name="Berg", email="bert@example.com")
    template = TemplateFactory(owner=owner, subject="Hi", body="Hi {{ contact.first_name }}.\n"
                                                                "Unsubscribe: {{ unsubscribe_url }}\n")
    campaign = _campaign(owner, [anna, bert], template=template)
    services.campaign_start(actor=owner, campaign=campaign)
    services.campaign_dispatch()
    deliver_all()
    [received] = smtp_server.to("anna@example.com")
    assert received.text.count("/unsubscribe/") == 1  # placed by the template: no footer
    url = LINK.search(received.text).group(0)
    path = url.split("8000", 1)[1]

    browser = Client(enforce_csrf_checks=True)  # nobody signed in; a mail program has no CSRF token
    page = browser.get(path)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Unsubscribe" in text and "<form method=\"post\"" in text
    assert "Anna" not in text and "anna@example.com" not in text and "Secretname" not in text
    assert _status(anna) != RecipientStatus.UNSUBSCRIBED  # a GET changes nothing (mail scanners open links)
    done = browser.post(path)
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    assert "anna" not in done.content.decode().lower()
    assert _status(anna) == RecipientStatus.UNSUBSCRIBED
    assert Suppression.objects.get(email_key="anna@example.com").reason == "unsubscribed"
    assert browser.post(path).status_code == 200  # again: still fine

    # One click from a mail program (RFC 8058): a POST with List-Unsubscribe=One-Click.
    bert_url = LINK.search(smtp_server.to("bert@example.com")[0].text).group(0).split("8000", 1)[1]
    assert browser.post(bert_url, "List-Unsubscribe=One-Click",
                        content_type="application/x-www-form-urlencoded").status_code == 200
    assert _status(bert) == RecipientStatus.UNSUBSCRIBED

    # Every later campaign skips them.
    services.campaign_dispatch()
    later = CampaignFactory(owner=owner, distribution_list=campaign.distribution_list, template=template)
    services.campaign_start(actor=owner, campaign=later)
    assert set(CampaignRecipient.objects.filter(campaign=later).values_list("status", flat=True)) == {"skipped"}


def test_an_unknown_unsubscribe_link_is_a_404_page(client):
    for token in ("zzzzzzzzzzzzzzzz", "x" * 100, "%00"):
        answer = client.get(f"/unsubscribe/{token}/")
        assert answer.status_code in (400, 404), token
    answer = client.post("/unsubscribe/zzzzzzzzzzzzzzzz/")
    assert answer.status_code == 404 and "does not work" in answer.content.decode()
    assert not Suppression.objects.exists()


# --- Cancelling -------------------------------------------------------------------------------------------


def test_cancelling_skips_those_waiting_and_takes_back_what_no_worker_has_picked_up(personas, smtp_server):
    owner = personas.owner
    campaign = _campaign(owner, people(owner, 30), rate_per_minute=10)
    services.campaign_start(actor=owner, campaign=campaign, now=T0)
    services.campaign_dispatch(now=T0)
    # A worker is sending one of the ten queued messages right now: that one is beyond recall.
    being_sent = CampaignRecipient.objects.filter(status=RecipientStatus.QUEUED).order_by("id").first()
    OutboxMessage.objects.filter(pk=being_sent.outbox_message_id).update(
        status=OutboxStatus.SENDING, claimed_at=timezone.now() - dt.timedelta(hours=1))

    cancelled = services.campaign_cancel(actor=owner, campaign=campaign, now=T0 + dt.timedelta(seconds=5))

    assert cancelled.status == CampaignStatus.CANCELLED
    assert _counts(campaign) == {"queued": 1, "skipped": 29}
    assert OutboxMessage.objects.filter(kind="campaign").count() == 1
    assert services.campaign_dispatch(now=timezone.now() + dt.timedelta(minutes=5)) == 0
    deliver_all()
    services.campaign_dispatch()
    assert _counts(campaign) == {"sent": 1, "skipped": 29}
    assert len(smtp_server.messages) == 1
    with pytest.raises(Conflict):
        services.campaign_cancel(actor=owner, campaign=campaign)


def test_an_address_suppressed_while_a_campaign_is_sending_gets_nothing_more_from_it(personas, smtp_server):
    owner = personas.owner
    contacts = people(owner, 3)
    first = _campaign(owner, contacts, rate_per_minute=1)
    second = _campaign(owner, contacts, rate_per_minute=1)
    for campaign in (first, second):
        services.campaign_start(actor=owner, campaign=campaign, now=T0)
    services.campaign_dispatch(now=T0)  # one message each, to person0000

    # person0001 unsubscribes from the first campaign (through a link of a later minute's message) ...
    services.campaign_dispatch(now=T0 + dt.timedelta(seconds=61))
    link_owner = CampaignRecipient.objects.get(campaign=first, email="person0001@example.com")
    assert services.recipient_unsubscribe(token=link_owner.token)
    # ... and an administrator suppresses person0002 by hand.
    Suppression.objects.create(email_key="person0002@example.com", reason="manual")

    # The second campaign had queued person0001's message, not yet picked up: it is taken back.
    in_second = CampaignRecipient.objects.get(campaign=second, email="person0001@example.com")
    assert in_second.status == RecipientStatus.SKIPPED and in_second.outbox_message is None
    for minute in range(2, 6):
        services.campaign_dispatch(now=T0 + dt.timedelta(seconds=61 * minute))
    deliver_all()
    services.campaign_dispatch()
    to = Counter(rcpt.lower() for received in smtp_server.messages for rcpt in received.rcpt_tos)
    # person0000 got both campaigns' first message, person0001 only the first campaign's (whose link they
    # used), person0002 nothing after the suppression.
    assert to == {"person0000@example.com": 2, "person0001@example.com": 1}
    assert Campaign.objects.get(pk=second.pk).status == CampaignStatus.SENT


def test_a_message_the_outbox_gave_up_on_is_skipped_with_the_reason(personas):
    owner = personas.owner
    campaign = _campaign(owner, people(owner, 2))
    services.campaign_start(actor=owner, campaign=campaign)
    services.campaign_dispatch()
    failed = CampaignRecipient.objects.order_by("id").first()
    OutboxMessage.objects.filter(pk=failed.outbox_message_id).update(status=OutboxStatus.FAILED)
    OutboxMessage.objects.exclude(pk=failed.outbox_message_id).update(status=OutboxStatus.SENT)
    services.campaign_dispatch()
    failed.refresh_from_db()
    assert failed.status == RecipientStatus.SKIPPED and "Delivery failed" in failed.skip_reason
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    # An administrator retries it, and it goes out after all: it counts as sent.
    OutboxMessage.objects.filter(pk=failed.outbox_message_id).update(status=OutboxStatus.SENT)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    services.campaign_dispatch()
    assert _counts(campaign) == {"sent": 2}


# --- Replies and bounces ----------------------------------------------------------------------------------


def _sent_campaign(personas, smtp_server, count: int = 3) -> tuple[Campaign, list]:
    contacts = people(personas.owner, count)
    campaign = _campaign(personas.owner, contacts)
    services.campaign_start(actor=personas.owner, campaign=campaign)
    services.campaign_dispatch()
    deliver_all()
    services.campaign_dispatch()
    return campaign, contacts


def _id_of(smtp_server, address: str) -> str:
    return smtp_server.to(address)[0].message["Message-ID"].strip("<>")


def test_a_reply_marks_the_recipient_replied_and_is_still_logged(personas, smtp_server):
    _campaign_made, (first, second, _third) = _sent_campaign(personas, smtp_server)
    message_id = _id_of(smtp_server, first.email)
    assert services.campaign_feedback(in_reply_to=["unrelated@example.org", message_id.upper()],
                                      bounced_message_ids=[], bounced_addresses=[]) is False
    assert _status(first) == RecipientStatus.REPLIED and _status(second) == RecipientStatus.SENT
    assert not Suppression.objects.exists()


def test_a_bounce_naming_the_message_marks_the_recipient_bounced_and_suppresses_the_address(
        personas, smtp_server):
    _campaign_made, (first, second, _third) = _sent_campaign(personas, smtp_server)
    assert services.campaign_feedback(in_reply_to=[], bounced_message_ids=[f"<{_id_of(smtp_server, first.email)}>"],
                                      bounced_addresses=[second.email]) is True
    assert _status(first) == RecipientStatus.BOUNCED and _status(second) == RecipientStatus.SENT
    assert Suppression.objects.get().email_key == first.email and Suppression.objects.get().reason == "bounced"


def test_a_bounce_naming_only_the_address_matches_a_recent_campaign_message(personas, smtp_server):
    campaign, (first, _second, _third) = _sent_campaign(personas, smtp_server)
    assert services.campaign_feedback(in_reply_to=[], bounced_message_ids=["someone-else@example.org"],
                                      bounced_addresses=[first.email.upper()]) is True
    assert _status(first) == RecipientStatus.BOUNCED
    Campaign.objects.filter(pk=campaign.pk).update(started_at=timezone.now() - dt.timedelta(days=31))
    _x, _y, third = CampaignRecipient.objects.order_by("id")
    assert services.campaign_feedback(in_reply_to=[], bounced_message_ids=[],
                                      bounced_addresses=[third.email]) is False


def test_a_bounce_of_other_mail_to_a_campaign_address_is_not_the_campaigns(personas, smtp_server):
    from rapport.mail.services import queue_email

    _sent, (first, _second, _third) = _sent_campaign(personas, smtp_server)
    other = queue_email(to=[first.email], subject="Your support request", body="Text", kind="support_request")

    assert services.campaign_feedback(in_reply_to=[], bounced_message_ids=[other.message_id],
                                      bounced_addresses=[first.email]) is False
    assert _status(first) == RecipientStatus.SENT
    assert not Suppression.objects.exists()


def test_a_bounce_naming_only_an_address_is_the_last_campaign_that_mailed_it(personas, smtp_server):
    earlier, (first, _b, _c) = _sent_campaign(personas, smtp_server)
    later = _campaign(personas.owner, [first])
    services.campaign_start(actor=personas.owner, campaign=later)
    services.campaign_dispatch()
    deliver_all()
    services.campaign_dispatch()

    assert services.campaign_feedback(in_reply_to=[], bounced_message_ids=[],
                                      bounced_addresses=[first.email]) is True
    statuses = dict(CampaignRecipient.objects.filter(email=first.email).values_list("campaign_id", "status"))
    assert statuses == {earlier.pk: RecipientStatus.SENT, later.pk: RecipientStatus.BOUNCED}


def test_unrelated_mail_writes_nothing(personas, smtp_server, django_assert_max_num_queries):
    _sent_campaign(personas, smtp_server)
    before = (list(CampaignRecipient.objects.order_by("pk").values()), Suppression.objects.count())
    # Per message: the campaign messages it names, and for a bounce naming only unknown ids, whether any is
    # one of Rapport's own (before the recent-campaign lookup by address).
    with django_assert_max_num_queries(4):
        assert services.campaign_feedback(in_reply_to=["abc@example.org"], bounced_message_ids=[],
                                          bounced_addresses=[]) is False
        assert services.campaign_feedback(in_reply_to=[], bounced_message_ids=["x@y.z"],
                                          bounced_addresses=["nobody@example.org"]) is False
    assert services.campaign_feedback(in_reply_to=[], bounced_message_ids=[], bounced_addresses=[]) is False
    assert (list(CampaignRecipient.objects.order_by("pk").values()), Suppression.objects.count()) == before


def test_a_bounce_does_not_undo_an_unsubscribe(personas, smtp_server):
    _campaign_made, (first, _s, _t) = _sent_campaign(personas, smtp_server)
    services.recipient_unsubscribe(token=CampaignRecipient.objects.get(contact=first).token)
    assert services.campaign_feedback(in_reply_to=[], bounced_message_ids=[_id_of(smtp_server, first.email)],
                                      bounced_addresses=[]) is True
    assert _status(first) == RecipientStatus.UNSUBSCRIBED
    assert Suppression.objects.get().reason == "unsubscribed"
