"""The SMTP listener (rapport.mail.listener), a real aiosmtpd server on 127.0.0.1, with smtplib as the
mail client: what users BCC or forward is logged; unknown recipients, oversized messages and a
message that fails are refused while the listener goes on serving.

The listener's worker threads share the test's database connection (as Django's live server does),
so each test stays inside its own transaction and rolls back.
"""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator

import pytest
from django.db import connections

from rapport.core.models import User
from rapport.mail import intake
from rapport.mail.listener import IntakeHandler, make_controller, parse_listen, serve
from rapport.mail.models import EmailMessage, EmailStatus, PendingReason
from rapport.mail.selectors import logging_address
from rapport.support.models import SupportItem
from tests.factories import UserFactory
from tests.mail.smtp import HOST, free_port
from tests.mail.test_intake import (
    SUPPORT,
    Office,
    _campaign_message,
    bounce_for,
    build_office,
    linked,
    mail_settings,
    message,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(settings, tmp_path) -> Office:
    mail_settings(settings, tmp_path)
    return build_office()

MB = 1024 * 1024


@pytest.fixture
def listener(office: Office, settings) -> Iterator[int]:
    """A running listener; its port. The mail limit is the default 25 MB."""
    settings.RAPPORT_MAIL_MAX_BYTES = 25 * MB
    connection = connections["default"]
    connection.inc_thread_sharing()

    def shared(function):
        connections["default"] = connection
        return function()

    handler = IntakeHandler(runner=shared)
    port = free_port()
    controller = make_controller(HOST, port, handler=handler)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
        handler.close()
        connection.dec_thread_sharing()


def send(port: int, mail, *, to: list[str], sender: str = "sam@our.example") -> dict:
    raw = mail if isinstance(mail, bytes) else mail.as_bytes()
    with smtplib.SMTP(HOST, port, timeout=30) as client:
        return client.sendmail(sender, to, raw)


def test_a_bccd_message_is_filed_to_the_contact_and_their_account(office, listener):
    # Sam writes to Pat and puts his logging address in Bcc: it is only in the envelope.
    mail = message(sender="Sam <sam@our.example>", to="Pat <pat@acme.example>", subject="Our offer")
    assert send(listener, mail, to=[office.sam_log]) == {}
    [row] = EmailMessage.objects.all()
    assert row.owner == office.sam and row.status == EmailStatus.FILED and row.direction == "out"
    assert linked(row) == {("contact", office.pat.pk), ("account", office.acme.pk)}
    assert row.activity.subject == "Our offer"


def test_an_unknown_senders_message_waits_as_pending(office, listener):
    send(listener, message(sender="who@unknown.example", to="sam@our.example"), to=[office.sam_log],
         sender="who@unknown.example")
    [row] = EmailMessage.objects.all()
    assert row.status == EmailStatus.PENDING and row.pending_reason == PendingReason.NO_MATCH


def test_the_same_message_sent_twice_is_one_row(office, listener):
    mail = message(sender="pat@acme.example", message_id="<twice@acme.example>")
    send(listener, mail, to=[office.sam_log])
    send(listener, mail, to=[office.sam_log])
    assert EmailMessage.objects.count() == 1


def test_an_unknown_recipient_is_refused_at_rcpt(office, listener):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(listener, message(), to=["log-nosuchkey@rapport.test"])
    [(code, text)] = refused.value.recipients.values()
    assert code == 550 and b"logging address" in text
    # Mixed: the known one gets it, the unknown one is named as refused.
    assert send(listener, message(), to=[office.sam_log, "random@rapport.test"]) == {
        "random@rapport.test": (550, b"5.1.1 No such logging address here")}
    assert EmailMessage.objects.count() == 1


def test_a_30_mb_message_is_refused_and_the_next_one_is_logged(office, listener):
    big = message(sender="pat@acme.example", text="x" * 100)
    big.add_attachment(b"\0" * (22 * MB), maintype="application", subtype="octet-stream", filename="big.bin")
    raw = big.as_bytes()
    assert len(raw) > 29 * MB  # base64 makes 22 MB into 30
    with smtplib.SMTP(HOST, listener, timeout=60) as client:
        # A client that declares the size is refused before sending it...
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("pat@acme.example", [office.sam_log], raw)
        assert refused.value.smtp_code == 552
        client.rset()
        # ...and one that does not is refused after DATA.
        assert client.mail("pat@acme.example")[0] == 250
        assert client.rcpt(office.sam_log)[0] == 250
        code, text = client.data(raw)
        assert (code, text) == (552, b"Error: Too much mail data")
        # The same connection goes on.
        next_one = message(sender="pat@acme.example").as_bytes()
        assert client.sendmail("pat@acme.example", [office.sam_log], next_one) == {}
    [row] = EmailMessage.objects.all()
    assert row.raw_size < MB


def test_a_message_that_fails_is_answered_451_and_the_listener_goes_on(office, listener, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(intake, "log_message", broken)
    with pytest.raises(smtplib.SMTPDataError) as failed:
        send(listener, message(), to=[office.sam_log])
    assert failed.value.smtp_code == 451
    monkeypatch.undo()
    assert send(listener, message(), to=[office.sam_log]) == {}
    assert EmailMessage.objects.count() == 1


def test_header_injection_through_subject_and_name_is_one_line(office, listener):
    raw = (b"From: =?utf-8?q?Pat=0D=0ABcc=3A_all=40acme=2Eexample?= <pat@acme.example>\r\nTo: sam@our.example\r\n"
           b"Subject: =?utf-8?q?Hi=0D=0AX-Evil=3A_1?=\r\nMessage-ID: <inj@acme.example>\r\n\r\nbody\r\n")
    send(listener, raw, to=[office.sam_log])
    row = EmailMessage.objects.get()
    assert row.subject == "Hi X-Evil: 1" and row.from_name == "Pat Bcc: all@acme.example"


def test_script_html_is_sanitised(office, listener):
    html = '<div>Hello<script>document.cookie</script><a href="javascript:steal()">click</a></div>'
    send(listener, message(sender="pat@acme.example", text=None, html=html), to=[office.sam_log])
    row = EmailMessage.objects.get()
    assert "script" not in row.html_body and "javascript" not in row.html_body and "Hello" in row.html_body


def test_a_mislabelled_attachment_is_stored_with_the_type_found(office, listener):
    mail = message(sender="pat@acme.example")
    mail.add_attachment(b"<!DOCTYPE html><script>alert(1)</script>", maintype="image", subtype="png",
                        filename="cat.png")
    send(listener, mail, to=[office.sam_log])
    [attachment] = EmailMessage.objects.get().attachments.all()
    assert (attachment.declared_type, attachment.detected_type) == ("image/png", "text/html")


def test_the_support_address_opens_an_item_and_a_reference_adds_to_it(office, listener):
    send(listener, message(sender="pat@acme.example", to=SUPPORT, subject="Cannot log in"), to=[SUPPORT],
         sender="pat@acme.example")
    item = SupportItem.objects.get()
    assert item.contact == office.pat
    send(listener, message(sender="pat@acme.example", to=SUPPORT, subject=f"RE: [{item.reference}] Cannot log in"),
         to=[SUPPORT], sender="pat@acme.example")
    assert SupportItem.objects.count() == 1
    assert {row.source for row in EmailMessage.objects.all()} == {"support"}
    assert all(("support_item", item.pk) in linked(row) for row in EmailMessage.objects.all())


def test_a_campaign_bounce_is_handed_to_campaigns(office, listener):
    recipient = _campaign_message(office, "gone@acme.example", "spring-9@our.example")
    raw = bounce_for("spring-9@our.example", "gone@acme.example").replace(b"{to}", office.sam_log.encode())
    send(listener, raw, to=[office.sam_log], sender="")
    recipient.refresh_from_db()
    assert recipient.status == "bounced" and not EmailMessage.objects.exists()


def test_parse_listen():
    assert parse_listen("127.0.0.1:2525") == ("127.0.0.1", 2525)
    assert parse_listen("[::1]:25") == ("::1", 25)
    assert parse_listen(":2525") == ("127.0.0.1", 2525)
    for bad in ("nowhere", "host:port", "host:0", "host:70000"):
        with pytest.raises(ValueError, match="RAPPORT_MAIL_LISTEN"):
            parse_listen(bad)


def test_serve_listens_until_stopped():
    port = free_port()
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(HOST, port, stop), daemon=True)
    thread.start()
    try:
        for _attempt in range(50):
            try:
                with smtplib.SMTP(HOST, port, timeout=5) as client:
                    code, banner = client.ehlo()
                break
            except OSError:
                stop.wait(0.1)
        assert code == 250 and b"SIZE" in banner
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_a_read_only_users_logging_address_is_refused_at_rcpt_with_the_reason(office, listener):
    viewer = UserFactory(username="viewer", email="viewer@our.example", role_slugs="read-only")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(listener, message(), to=[logging_address(viewer)])
    [(code, text)] = refused.value.recipients.values()
    assert code == 550 and b"may not log email" in text
    assert not EmailMessage.objects.exists()


def test_support_mail_without_anyone_to_own_it_is_answered_451(office, listener):
    # A setup problem (no support user, no RAPPORT_SUPPORT_OWNER): the sender's server keeps the message.
    User.objects.filter(pk=office.desk.pk).update(is_active=False)
    User.objects.filter(is_superuser=True).update(is_active=False)
    with pytest.raises(smtplib.SMTPDataError) as failed:
        send(listener, message(sender="pat@acme.example", to=SUPPORT), to=[SUPPORT], sender="pat@acme.example")
    assert failed.value.smtp_code == 451
    assert not SupportItem.objects.exists() and not EmailMessage.objects.exists()


def test_a_delivery_report_sent_on_by_a_person_is_logged_not_consumed(office, listener):
    recipient = _campaign_message(office, "gone@acme.example", "spring-10@our.example")
    raw = bounce_for("spring-10@our.example", "gone@acme.example").replace(b"{to}", office.sam_log.encode())
    send(listener, raw, to=[office.sam_log], sender="sam@our.example")  # forwarded by Sam: his envelope
    recipient.refresh_from_db()
    assert recipient.status == "sent" and EmailMessage.objects.count() == 1
