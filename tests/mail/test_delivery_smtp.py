"""The outbox delivered through a real SMTP server on 127.0.0.1: once, with retries and back-off across
an outage, with one Message-ID throughout, and after a crashed worker's claim expires."""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest
from django.utils import timezone

from rapport.mail import services
from rapport.mail.models import OutboxMessage, OutboxStatus
from rapport.mail.services import CLAIM_TIMEOUT, MAX_ATTEMPTS, RETRY_DELAYS, deliver_due, queue_email
from tests.mail.smtp import SmtpServer, free_port, send_mail_to

pytestmark = pytest.mark.django_db


def _queue(**overrides) -> OutboxMessage:
    data = {"to": ["kari@example.com"], "subject": "Hello", "body": "Første linje.\nSecond line.",
            "kind": "test"}
    return queue_email(**{**data, **overrides})


def test_a_queued_message_is_delivered_once_with_its_message_id(smtp_server):
    message = _queue(html_body="<p>Hello</p>")

    assert deliver_due() == 1

    [received] = smtp_server.messages
    assert received.rcpt_tos == ["kari@example.com"]
    assert received.message["Message-ID"] == message.message_id
    assert received.message["Subject"] == "Hello"
    assert "Første linje." in received.text
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, "")
    assert message.sent_at is not None and message.claimed_at is None

    assert deliver_due() == 0
    assert deliver_due(now=timezone.now() + dt.timedelta(days=2)) == 0
    assert len(smtp_server.messages) == 1


def test_several_messages_go_out_on_one_connection_in_queue_order(smtp_server):
    first = _queue(to=["a@example.com"], subject="First")
    second = _queue(to=["b@example.com", "c@example.com"], subject="Second")

    assert deliver_due() == 2

    assert [r.message["Message-ID"] for r in smtp_server.messages] == [first.message_id, second.message_id]
    assert smtp_server.messages[1].rcpt_tos == ["b@example.com", "c@example.com"]


def test_a_header_injection_in_the_subject_stays_in_the_subject(smtp_server):
    _queue(subject="Hello\r\nBcc: victim@example.com")

    deliver_due()

    [received] = smtp_server.messages
    assert received.rcpt_tos == ["kari@example.com"]
    assert received.message["Bcc"] is None
    assert received.message["Subject"] == "Hello Bcc: victim@example.com"


def test_an_outage_delays_the_message_and_it_goes_out_later_with_the_same_message_id(settings):
    port = free_port()
    send_mail_to(settings, port)  # nothing listens there yet
    message = _queue()
    start = timezone.now()

    assert deliver_due(now=start) == 0

    message.refresh_from_db()
    assert message.status == OutboxStatus.QUEUED
    assert message.attempts == 1
    assert message.last_error  # the refused connection, in words
    assert message.next_attempt_at == start + dt.timedelta(seconds=RETRY_DELAYS[0])
    assert message.claimed_at is None

    with SmtpServer(port) as server:
        assert deliver_due(now=start + dt.timedelta(seconds=RETRY_DELAYS[0] - 1)) == 0  # not due yet
        assert server.messages == []

        assert deliver_due(now=start + dt.timedelta(seconds=RETRY_DELAYS[0] + 1)) == 1

        [received] = server.messages
        assert received.message["Message-ID"] == message.message_id
        message.refresh_from_db()
        assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 2, "")
        assert deliver_due(now=start + dt.timedelta(days=1)) == 0
        assert len(server.messages) == 1


def test_the_back_off_grows_until_the_message_fails_and_an_administrator_retries_it(settings, personas):
    port = free_port()
    send_mail_to(settings, port)
    message = _queue()
    now = timezone.now()
    waits = []

    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert deliver_due(now=now) == 0
        message.refresh_from_db()
        assert message.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert message.status == OutboxStatus.QUEUED
            waits.append((message.next_attempt_at - now).total_seconds())
            now = message.next_attempt_at
    assert waits == list(RETRY_DELAYS)
    assert message.status == OutboxStatus.FAILED
    assert message.last_error
    assert deliver_due(now=now + dt.timedelta(days=30)) == 0  # a failed message waits for a person

    with SmtpServer(port) as server:
        services.outbox_retry(actor=personas.admin, message=message)
        message.refresh_from_db()
        assert message.status == OutboxStatus.QUEUED

        assert deliver_due() == 1

        [received] = server.messages
        assert received.message["Message-ID"] == message.message_id
        message.refresh_from_db()
        assert message.status == OutboxStatus.SENT


def test_the_retry_button_requeues_a_failed_message_that_the_worker_then_sends(settings, personas, client):
    port = free_port()
    send_mail_to(settings, port)
    message = _queue()
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.FAILED, attempts=MAX_ATTEMPTS,
                                                       last_error="SMTPConnectError: down")
    client.force_login(personas.admin)

    with SmtpServer(port) as server:
        response = client.post(f"/settings/outbox/{message.public_id}/retry/")

        assert response.status_code == 302
        assert response["Location"] == f"/settings/outbox/{message.public_id}/"
        assert deliver_due() == 1
        assert [r.message["Message-ID"] for r in server.messages] == [message.message_id]


def test_a_message_claimed_by_a_worker_that_died_is_sent_again_after_the_claim_timeout(smtp_server):
    message = _queue()
    claimed = timezone.now()
    # A worker claimed it and died before it could say how the sending went.
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENDING, claimed_at=claimed, attempts=1)

    assert deliver_due(now=claimed + CLAIM_TIMEOUT - dt.timedelta(seconds=1)) == 0
    assert smtp_server.messages == []
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENDING

    assert deliver_due(now=claimed + CLAIM_TIMEOUT + dt.timedelta(seconds=1)) == 1

    [received] = smtp_server.messages
    assert received.message["Message-ID"] == message.message_id
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


def test_a_message_another_worker_is_sending_now_is_left_to_it(smtp_server):
    message = _queue()
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENDING, claimed_at=timezone.now())

    assert deliver_due() == 0
    assert smtp_server.messages == []


def test_one_bad_message_does_not_hold_up_the_others(smtp_server, monkeypatch):
    bad = _queue(to=["bad@example.com"], subject="Refused")
    good = _queue(to=["good@example.com"], subject="Fine")
    original = services._email

    def refuse_first(message, connection):
        if message.pk == bad.pk:
            raise smtplib.SMTPDataError(554, b"refused")
        return original(message, connection)

    monkeypatch.setattr(services, "_email", refuse_first)

    assert deliver_due() == 1

    assert [r.message["Message-ID"] for r in smtp_server.messages] == [good.message_id]
    bad.refresh_from_db()
    assert (bad.status, bad.attempts) == (OutboxStatus.QUEUED, 1)
    assert bad.last_error.startswith("SMTPDataError")


def test_an_unreachable_server_leaves_the_rest_of_the_run_untouched(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    first, second = _queue(subject="First"), _queue(subject="Second")

    assert deliver_due() == 0

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts) == (OutboxStatus.QUEUED, 1)
    assert (second.status, second.attempts, second.last_error) == (OutboxStatus.QUEUED, 0, "")
