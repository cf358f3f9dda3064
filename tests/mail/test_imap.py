"""Polling a mailbox (rapport.mail.imap) against a real IMAP server on 127.0.0.1 (tests/mail/imap_server.py):
unseen mail is logged and only then marked seen; a crash in between logs nothing twice; oversized
mail is left on the server, flagged; `rapport mail-poll --once` says how many it logged."""

from __future__ import annotations

import imaplib
from collections.abc import Iterator

import pytest

from rapport.cli import main
from rapport.core.scheduler import periodic_jobs
from rapport.mail.imap import ImapConfigError, parse_imap_url, poll_once
from rapport.mail.models import EmailMessage, EmailStatus
from rapport.mail.tasks import poll_mailbox
from tests.mail.imap_server import ImapServer
from tests.mail.test_intake import Office, build_office, mail_settings, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(settings, tmp_path) -> Office:
    mail_settings(settings, tmp_path)
    return build_office()


@pytest.fixture
def mailbox(office, settings) -> Iterator[ImapServer]:
    with ImapServer(user="crm@our.example", password="p@ss word") as server:
        settings.RAPPORT_IMAP_URL = server.url()
        yield server


def raw(mail) -> bytes:
    return mail.as_bytes()


def test_unseen_mail_is_logged_then_marked_seen(office, mailbox):
    bcc = mailbox.add(raw(message(sender="sam@our.example", to="pat@acme.example")))
    known = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    old = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)), flags={"\\Seen"})
    result = poll_once()
    assert (result.logged, result.duplicates, result.failed, result.skipped) == (2, 0, 0, 0)
    assert mailbox.flags(bcc) == {"\\Seen"} and mailbox.flags(known) == {"\\Seen"}
    assert mailbox.flags(old) == {"\\Seen"}
    rows = EmailMessage.objects.order_by("id")
    assert [(row.owner, row.source, row.direction, row.status) for row in rows] == [
        (office.sam, "imap", "out", EmailStatus.FILED), (office.sam, "imap", "in", EmailStatus.FILED)]
    # Read without marking (BODY.PEEK), marked by the poller's STORE only.
    assert not any("RFC822)" in command or "BODY[]" in command for command in mailbox.commands)
    assert any(command.startswith("UID FETCH") and "BODY.PEEK[]" in command for command in mailbox.commands)
    assert poll_once().logged == 0  # nothing unseen is left


def test_mail_from_anyone_without_a_logging_address_goes_to_the_first_admin(office, mailbox):
    mailbox.add(raw(message(sender="pat@acme.example", to="crm@our.example", Delivered_To="crm@our.example")))
    poll_once()
    assert EmailMessage.objects.get().owner == office.admin


def test_a_crash_between_storing_and_marking_logs_nothing_twice(office, mailbox):
    uid = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    mailbox.fail_store = True  # the poller dies before it can mark the message
    with pytest.raises(imaplib.IMAP4.error):
        poll_once()
    assert EmailMessage.objects.count() == 1 and mailbox.flags(uid) == set()
    mailbox.fail_store = False
    result = poll_once()
    assert (result.logged, result.duplicates) == (0, 1)
    assert EmailMessage.objects.count() == 1 and mailbox.flags(uid) == {"\\Seen"}


def test_a_message_over_the_limit_is_left_on_the_server_seen_and_flagged(office, mailbox, settings, caplog):
    settings.RAPPORT_MAIL_MAX_BYTES = 2000
    big = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log, text="x" * 5000)))
    small = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    result = poll_once()
    assert (result.logged, result.skipped) == (1, 1)
    assert mailbox.flags(big) == {"\\Seen", "\\Flagged"} and mailbox.flags(small) == {"\\Seen"}
    assert "more than RAPPORT_MAIL_MAX_BYTES" in caplog.text
    assert not any(f"FETCH {big} (BODY.PEEK[])" in command for command in mailbox.commands)


def test_a_message_that_fails_to_store_stays_unseen(office, mailbox, monkeypatch):
    from rapport.mail import intake

    uid = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    monkeypatch.setattr(intake, "log_message", lambda *args, **kwargs: 1 / 0)
    assert poll_once().failed == 1
    assert mailbox.flags(uid) == set()


def test_mail_poll_once_prints_how_many_it_logged(office, mailbox, capsys):
    mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    mailbox.add(raw(message(sender="lee@globex.example", to=office.sam_log)))
    assert main(["mail-poll", "--once"]) == 0
    assert capsys.readouterr().out.startswith("Logged 2 messages (0 stored already")
    assert main(["mail-poll", "--once"]) == 0
    assert capsys.readouterr().out.startswith("Logged 0 messages")


def test_mail_poll_says_what_is_wrong(office, mailbox, settings, capsys):
    settings.RAPPORT_IMAP_URL = mailbox.url().replace("p%40ss", "wrong")
    assert main(["mail-poll", "--once"]) == 1
    assert "could not be read" in capsys.readouterr().err
    settings.RAPPORT_IMAP_URL = ""
    assert main(["mail-poll", "--once"]) == 2
    assert "RAPPORT_IMAP_URL is not set" in capsys.readouterr().err
    settings.RAPPORT_IMAP_URL = "pop3://host"
    assert main(["mail-poll", "--once"]) == 2


def test_the_periodic_job_polls_and_does_nothing_without_a_mailbox(office, mailbox, settings):
    assert periodic_jobs()["poll_mailbox"].every_seconds == 60
    mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    assert poll_mailbox.call() == 1
    settings.RAPPORT_IMAP_URL = ""
    mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    assert poll_mailbox.call() == 0
    settings.RAPPORT_IMAP_URL = "imap://nobody@127.0.0.1:1/INBOX"  # nothing listens: logged, not raised
    assert poll_mailbox.call() == 0


def test_parse_imap_url():
    box = parse_imap_url("imaps://crm%40our.example:s%3Acret@mail.example/Logged%20mail")
    assert (box.host, box.port, box.username, box.password, box.mailbox, box.ssl) == (
        "mail.example", 993, "crm@our.example", "s:cret", "Logged mail", True)
    assert "s:cret" not in str(box)
    plain = parse_imap_url("imap://u:p@localhost:1143?tls=1")
    assert (plain.port, plain.ssl, plain.starttls, plain.mailbox) == (1143, False, True, "INBOX")
    for bad, words in (("http://u@h/", "must look like"), ("imaps://h/INBOX", "no user name"),
                       ("imaps://u@h:x/", "not a number"), ("imap://u@h/?tls=1&x=2", "unknown option"),
                       ("imaps://u@h/?tls=1", "TLS from the start")):
        with pytest.raises(ImapConfigError, match=words):
            parse_imap_url(bad)
