"""The outbox: queueing in the caller's transaction, and the administrators' outbox pages."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from rapport.mail import services
from rapport.mail.models import OutboxMessage, OutboxStatus
from rapport.mail.services import deliver_due, queue_email
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _queue(subject: str = "Hello", **overrides) -> OutboxMessage:
    return queue_email(**{"to": ["kari@example.com"], "subject": subject, "body": "Text of the message.",
                          "kind": "test", **overrides})


# --- Queueing ------------------------------------------------------------------------------------


def test_a_message_queued_in_a_transaction_that_rolls_back_is_never_stored_or_sent(
        smtp_server, django_capture_on_commit_callbacks):
    class Refused(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as wake_ups, pytest.raises(Refused), transaction.atomic():
        _queue()
        raise Refused

    assert wake_ups == []  # the worker is not even woken
    assert not OutboxMessage.objects.exists()
    assert deliver_due() == 0
    assert smtp_server.messages == []


def test_a_committed_message_wakes_the_worker(django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True) as wake_ups:
        message = _queue()

    assert len(wake_ups) == 1
    assert DBTaskResult.objects.filter(task_path="rapport.mail.tasks.deliver_mail").ready().count() == 1
    assert message.status == OutboxStatus.QUEUED
    assert message.message_id.startswith("<") and message.message_id.endswith("@localhost>")


def test_a_message_needs_a_recipient_with_an_email_address():
    with pytest.raises(ValidationError) as no_one:
        _queue(to=["", "  "])
    with pytest.raises(ValidationError) as bad:
        _queue(to=["kari@example.com", "not an address"])

    assert "no recipient" in str(no_one.value.message_dict["to"])
    assert "not an address is not an email address" in str(bad.value.message_dict["to"])
    assert not OutboxMessage.objects.exists()


def test_each_message_gets_its_own_message_id():
    assert _queue().message_id != _queue().message_id


def test_only_administrators_retry_and_a_sent_message_is_left_alone(personas):
    message = _queue()
    with pytest.raises(PermissionDenied):
        services.outbox_retry(actor=personas.owner, message=message)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENT)
    message.refresh_from_db()
    with pytest.raises(ValidationError):
        services.outbox_retry(actor=personas.admin, message=message)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


# --- The pages -----------------------------------------------------------------------------------


def _subjects(response) -> list[str]:
    return re.findall(r'<a href="/settings/outbox/[a-z2-7]{16}/">([^<]*)</a>', response.content.decode())


def test_the_outbox_lists_messages_newest_first_with_how_delivery_went(personas):
    _queue("Oldest")
    failed = _queue("Broken", to=["ola@example.com", "per@example.com"])
    OutboxMessage.objects.filter(pk=failed.pk).update(status=OutboxStatus.FAILED, attempts=8,
                                                      last_error="SMTPRecipientsRefused: no such user")
    _queue("Newest")

    response = client_for(personas.admin).get(reverse("outbox_list"))

    assert response.status_code == 200
    assert _subjects(response) == ["Newest", "Broken", "Oldest"]
    page = response.content.decode()
    assert "ola@example.com, per@example.com" in page
    assert "SMTPRecipientsRefused: no such user" in page
    assert 'aria-current="page">Outbox</a>' in page


def test_the_outbox_filters_by_status(personas):
    _queue("Waiting")
    sent = _queue("Delivered")
    OutboxMessage.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)
    admin = client_for(personas.admin)

    assert _subjects(admin.get(reverse("outbox_list"), {"status": "sent"})) == ["Delivered"]
    assert _subjects(admin.get(reverse("outbox_list"), {"status": "queued"})) == ["Waiting"]
    assert _subjects(admin.get(reverse("outbox_list"), {"status": "failed"})) == []
    unknown = admin.get(reverse("outbox_list"), {"status": "lost"})
    assert unknown.status_code == 400
    assert "Unknown status lost" in unknown.content.decode()


def test_the_outbox_pages_through_many_messages_with_cursors(personas):
    for number in range(60):
        _queue(f"Message {number:02d}")
    admin = client_for(personas.admin)

    first = admin.get(reverse("outbox_list"))
    cursor = re.search(r'rel="next" href="\?status=&amp;cursor=([^"]+)"', first.content.decode()).group(1)
    second = admin.get(reverse("outbox_list") + f"?status=&cursor={cursor}")

    shown = _subjects(first) + _subjects(second)
    assert shown == [f"Message {number:02d}" for number in reversed(range(60))]
    assert 'rel="next"' not in second.content.decode()
    assert admin.get(reverse("outbox_list"), {"cursor": "forged"}).status_code == 400


def test_a_message_shows_its_text_and_a_retry_button_while_not_sent(personas):
    message = _queue(body="Dear Kari,\n<script>alert(1)</script>")
    admin = client_for(personas.admin)

    page = admin.get(reverse("outbox_detail", args=[message.public_id])).content.decode()

    assert "Dear Kari," in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert message.message_id.replace("<", "&lt;").replace(">", "&gt;") in page
    assert reverse("outbox_retry", args=[message.public_id]) in page
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENT)
    page = admin.get(reverse("outbox_detail", args=[message.public_id])).content.decode()
    assert reverse("outbox_retry", args=[message.public_id]) not in page
    assert admin.get(reverse("outbox_detail", args=["a" * 16])).status_code == 404


def test_retrying_a_sent_message_says_so_and_changes_nothing(personas):
    message = _queue()
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENT, attempts=1)

    response = client_for(personas.admin).post(reverse("outbox_retry", args=[message.public_id]), follow=True)

    assert "This message was sent already." in response.content.decode()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)


@pytest.mark.parametrize("persona", ["owner", "manager", "viewer", "marketer"])
def test_the_outbox_is_for_administrators_only(personas, persona):
    message = _queue()
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.FAILED)
    client = client_for(getattr(personas, persona))

    assert client.get(reverse("outbox_list")).status_code == 403
    assert client.get(reverse("outbox_detail", args=[message.public_id])).status_code == 403
    assert client.post(reverse("outbox_retry", args=[message.public_id])).status_code == 403
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert "/settings/outbox/" not in client.get(reverse("settings_index")).content.decode()


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("outbox_list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_message_being_sent_right_now_cannot_be_retried(personas):
    message = _queue()
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENDING, claimed_at=timezone.now())
    message.refresh_from_db()

    with pytest.raises(ValidationError):
        services.outbox_retry(actor=personas.admin, message=message)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENDING


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_queues_many_messages_wakes_the_worker_once(monkeypatch):
    from django.db import transaction

    from rapport.mail import services as mail_services

    woken = []
    monkeypatch.setattr(mail_services, "_wake_worker", lambda: woken.append(1))
    with transaction.atomic():
        for number in range(5):
            mail_services.queue_email(to=[f"person{number}@example.com"], subject="Hello", body="Text")
    assert woken == [1]
    mail_services.queue_email(to=["alone@example.com"], subject="Hello", body="Text")  # autocommit: at once
    assert woken == [1, 1]


@pytest.mark.django_db(transaction=True)
def test_queue_emails_saves_many_in_a_few_inserts_each_with_its_own_message_id(django_assert_max_num_queries):
    from rapport.mail.services import outbox_message, queue_emails

    messages = [outbox_message(to=[f"person{number}@example.com"], subject=f"Hello {number}", body="Text",
                               kind="campaign") for number in range(300)]
    # A few multi-row INSERTs (SQLite caps the variables of one statement), never one per message.
    with django_assert_max_num_queries(10):
        saved = queue_emails(messages)

    assert [message.pk is not None for message in saved] == [True] * 300
    assert OutboxMessage.objects.filter(kind="campaign").count() == 300
    assert len({message.message_id for message in saved}) == 300


def test_a_bad_address_is_refused_before_anything_is_queued():
    from rapport.mail.services import outbox_message

    with pytest.raises(ValidationError) as refused:
        outbox_message(to=["not an address"], subject="Hello", body="Text")
    assert "not an email address" in str(refused.value)
    assert not OutboxMessage.objects.exists()
