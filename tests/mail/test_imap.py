"""Polling a mailbox (rapport.mail.imap) against a real IMAP server on 127.0.0.1 (tests/mail/imap_server.py):
unseen mail is logged and only then marked seen; a crash in between logs nothing twice; oversized
mail is left on the server, flagged; a message that keeps failing is skipped after three tries and
never keeps new mail waiting; one poll at a time; `rapport mail-poll --once` says how many it logged."""

from __future__ import annotations

import imaplib
import threading
from collections.abc import Iterator

import pytest
from django.db import connection

from rapport.cli import main
from rapport.core.scheduler import periodic_jobs
from rapport.mail.imap import ImapConfigError, parse_imap_url, poll_once
from rapport.mail.models import EmailMessage, EmailStatus
from rapport.mail.tasks import poll_mailbox, register_polling
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
    assert mailbox.flags(big) == {"\\Seen", "\\Flagged", "$RapportSkipped"} and mailbox.flags(small) == {"\\Seen"}
    assert "more than RAPPORT_MAIL_MAX_BYTES" in caplog.text
    assert not any(f"FETCH {big} (BODY.PEEK[])" in command for command in mailbox.commands)


def test_a_message_that_fails_to_store_stays_unseen_with_the_failure_counted(office, mailbox, monkeypatch):
    from rapport.mail import intake

    uid = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    monkeypatch.setattr(intake, "log_message", lambda *args, **kwargs: 1 / 0)
    assert poll_once().failed == 1
    assert mailbox.flags(uid) == {"$RapportFailed"}
    monkeypatch.undo()
    assert poll_once().logged == 1
    assert mailbox.flags(uid) == {"\\Seen"}  # the count goes once it is logged


def poison(office: Office, monkeypatch) -> None:
    """log_message fails for every message whose subject is "poison" (a bug some message triggers)."""
    from rapport.mail import intake

    real = intake.log_message

    def failing(raw_message: bytes, **kwargs):
        if b"Subject: poison" in raw_message:
            raise RuntimeError("cannot read this one")
        return real(raw_message, **kwargs)

    monkeypatch.setattr(intake, "log_message", failing)


def test_a_message_that_fails_three_times_is_skipped_for_good(office, mailbox, monkeypatch, caplog):
    poison(office, monkeypatch)
    bad = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log, subject="poison")))
    assert poll_once().failed == 1 and mailbox.flags(bad) == {"$RapportFailed"}
    assert poll_once().failed == 1 and mailbox.flags(bad) == {"$RapportFailed", "$RapportFailed2"}
    third = poll_once()
    assert (third.failed, third.skipped) == (0, 1)
    assert mailbox.flags(bad) == {"\\Seen", "\\Flagged", "$RapportFailed", "$RapportFailed2", "$RapportSkipped"}
    assert "failed 3 times" in caplog.text and "RuntimeError: cannot read this one" in caplog.text
    mailbox.commands.clear()
    assert poll_once().failed == 0 and not any("FETCH" in command for command in mailbox.commands)
    assert any("UNKEYWORD $RapportSkipped" in command for command in mailbox.commands)


def test_messages_that_failed_never_keep_new_mail_waiting(office, mailbox, monkeypatch):
    poison(office, monkeypatch)
    bad = [mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log, subject="poison")))
           for _number in range(4)]
    first = poll_once(limit=3)  # a batch full of bad messages
    assert first.failed == 3 and EmailMessage.objects.count() == 0
    new = [mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log))) for _number in range(2)]
    second = poll_once(limit=3)  # the ones never tried come first, oldest first, before those that failed
    assert (second.logged, second.failed) == (2, 1) and all(mailbox.flags(uid) == {"\\Seen"} for uid in new)
    assert mailbox.flags(bad[3]) == {"$RapportFailed"}  # the one left over from the first batch
    assert mailbox.flags(bad[0]) == {"$RapportFailed"}  # not tried again yet
    for _poll in range(4):
        poll_once(limit=3)
    assert all("$RapportSkipped" in mailbox.flags(uid) for uid in bad)
    late = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    assert poll_once(limit=3).logged == 1 and mailbox.flags(late) == {"\\Seen"}


def test_a_server_without_keywords_skips_a_failing_message_at_once(office, mailbox, monkeypatch):
    poison(office, monkeypatch)
    mailbox.keywords = False
    bad = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log, subject="poison")))
    good = mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    result = poll_once()
    assert (result.logged, result.skipped, result.failed) == (1, 1, 0)
    assert mailbox.flags(bad) == {"\\Seen", "\\Flagged"} and mailbox.flags(good) == {"\\Seen"}


def test_mail_nobody_can_own_is_skipped_at_once(office, mailbox, monkeypatch):
    from rapport.mail import intake

    monkeypatch.setattr(intake, "_first_admin", lambda: None)
    uid = mailbox.add(raw(message(sender="pat@acme.example", to="crm@our.example")))
    assert poll_once().skipped == 1
    assert mailbox.flags(uid) == {"\\Seen", "\\Flagged", "$RapportSkipped"}


def test_a_database_that_is_down_stops_the_poll_and_counts_nothing(office, mailbox, monkeypatch):
    from django.db import OperationalError

    from rapport.mail import intake

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(intake, "log_message", down)
    uids = [mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log))) for _number in range(3)]
    result = poll_once()
    assert result.failed == 1 and all(mailbox.flags(uid) == set() for uid in uids)
    assert sum(command.startswith("UID FETCH") and "BODY.PEEK" in command for command in mailbox.commands) == 1


def test_a_setup_problem_is_not_counted_against_the_message(office, mailbox, monkeypatch):
    from django.core.exceptions import ValidationError

    from rapport.mail import intake

    def no_owner(*args, **kwargs):
        raise ValidationError("No active user can own support items from email; set RAPPORT_SUPPORT_OWNER.")

    monkeypatch.setattr(intake, "log_message", no_owner)
    uid = mailbox.add(raw(message(sender="pat@acme.example", to="support@rapport.test")))
    for _poll in range(4):
        assert poll_once().failed == 1
    assert mailbox.flags(uid) == set()


def test_a_polled_bounce_is_known_by_its_return_path(office, mailbox):
    from tests.mail.test_intake import _campaign_message, bounce_for

    recipient = _campaign_message(office, "gone@acme.example", "spring-7@our.example")
    report = bounce_for("spring-7@our.example", "gone@acme.example").replace(b"{to}", b"news@our.example")
    forwarded = mailbox.add(b"Return-Path: <pat@acme.example>\r\n" + report)
    assert poll_once().bounces == 0 and mailbox.flags(forwarded) == {"\\Seen"}
    recipient.refresh_from_db()
    assert recipient.status == "sent"
    real = mailbox.add(b"Return-Path: <>\r\n" + report.replace(b"<bounce-", b"<bounce-2-"))
    assert poll_once().bounces == 1 and mailbox.flags(real) == {"\\Seen"}
    recipient.refresh_from_db()
    assert recipient.status == "bounced"


def test_a_poll_while_another_runs_does_nothing(office, mailbox, monkeypatch):
    from rapport.mail import intake

    mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    inside, release = threading.Event(), threading.Event()

    def held(*args, **kwargs):
        inside.set()
        release.wait(10)
        raise RuntimeError("stopped by the test")

    monkeypatch.setattr(intake, "log_message", held)

    def first() -> None:
        try:
            poll_once()
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(10)
        commands = len(mailbox.commands)
        overlapping = poll_once()
        assert overlapping.busy and str(overlapping).startswith("Another poll")
        assert len(mailbox.commands) == commands  # it did not even connect
    finally:
        release.set()
        thread.join(10)
    assert not thread.is_alive()
    monkeypatch.undo()
    assert poll_once().logged == 1  # the lock is free again


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
    mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    assert poll_mailbox.call() == 1
    settings.RAPPORT_IMAP_URL = ""
    mailbox.add(raw(message(sender="pat@acme.example", to=office.sam_log)))
    mailbox.commands.clear()
    assert poll_mailbox.call() == 0 and mailbox.commands == []
    settings.RAPPORT_IMAP_URL = "imap://nobody@127.0.0.1:1/INBOX"  # nothing listens: logged, not raised
    assert poll_mailbox.call() == 0


def test_the_scheduler_polls_every_minute_only_when_there_is_a_mailbox(settings, monkeypatch):
    from rapport.core import scheduler

    monkeypatch.setattr(scheduler, "_JOBS", {})
    settings.RAPPORT_IMAP_URL = ""
    register_polling()
    assert "poll_mailbox" not in periodic_jobs()
    settings.RAPPORT_IMAP_URL = "imaps://crm:secret@mail.example/INBOX"
    register_polling()
    assert periodic_jobs()["poll_mailbox"].every_seconds == 60


def test_parse_imap_url():
    box = parse_imap_url("imaps://crm%40our.example:s%3Acret@mail.example/Logged%20mail")
    assert (box.host, box.port, box.username, box.password, box.mailbox, box.ssl) == (
        "mail.example", 993, "crm@our.example", "s:cret", "Logged mail", True)
    assert "s:cret" not in str(box)
    plain = parse_imap_url("imap://u:p@localhost:1143?tls=1")
    assert (plain.port, plain.ssl, plain.starttls, plain.mailbox) == (1143, False, True, "INBOX")
    assert parse_imap_url("imap://u:p@mail.example/?tls=1").starttls  # STARTTLS to another machine: fine
    for local in ("localhost", "127.0.0.1", "[::1]", "127.0.0.2"):
        assert not parse_imap_url(f"imap://u:p@{local}:1143/").ssl
    for bad, words in (("http://u@h/", "must look like"), ("imaps://h/INBOX", "no user name"),
                       ("imaps://u@h:x/", "not a number"), ("imap://u@h/?tls=1&x=2", "unknown option"),
                       ("imaps://u@h/?tls=1", "TLS from the start"),
                       ("imap://u:p@mail.example/INBOX", "unencrypted; for mail.example use imaps://"),
                       ("imap://u:p@10.0.0.5:143/", "unencrypted")):
        with pytest.raises(ImapConfigError, match=words):
            parse_imap_url(bad)
