"""What a received message becomes (rapport.mail.intake.log_message): routed, stored once, threaded,
linked to the right records, or pending; support mail opens items; campaign bounces are consumed.

The transports (SMTP listener, IMAP poller) have their own tests; these call the service directly.
`build_office`, `mail_settings` and `message` are shared with them.
"""

from __future__ import annotations

import email.policy
import email.utils
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import connection

from rapport.activities.models import ActivityLink, Note
from rapport.core.models import User, Visibility
from rapport.directory.models import Account, Contact
from rapport.mail.intake import log_message
from rapport.mail.models import EmailAttachment, EmailMessage, EmailStatus, PendingReason
from rapport.mail.selectors import logging_address
from rapport.support.models import SupportItem
from tests.factories import AccountFactory, ContactFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

DOMAIN = "rapport.test"
SUPPORT = f"support@{DOMAIN}"


@dataclass
class Office:
    sam: User  # sales, logs mail
    sam_log: str
    desk: User  # support: owns items opened by email
    admin: User
    acme: Account
    pat: Contact  # at Acme
    quinn: Contact  # at Acme, with a second address
    lee: Contact  # at Globex
    solo: Contact  # no account
    hidden: Contact  # a private contact of someone in another team: sam may not see it


def build_office() -> Office:
    team = TeamFactory(name="Sales")
    other = TeamFactory(name="Elsewhere")
    sam = UserFactory(username="sam", email="Sam@Our.example", team=team, role_slugs="sales")
    desk = UserFactory(username="desk", email="desk@our.example", team=team, role_slugs="support")
    admin = UserFactory(username="boss", email="boss@our.example", role_slugs="admin")
    stranger = UserFactory(username="stranger", team=other, role_slugs="sales")
    acme = AccountFactory(owner=sam, name="Acme", email="info@acme.example")
    globex = AccountFactory(owner=sam, name="Globex")
    return Office(
        sam=sam, sam_log=logging_address(sam), desk=desk, admin=admin, acme=acme,
        pat=ContactFactory(owner=sam, account=acme, first_name="Pat", email="Pat@Acme.example"),
        quinn=ContactFactory(owner=sam, account=acme, first_name="Quinn", email="quinn@acme.example",
                             secondary_email="q.private@home.example"),
        lee=ContactFactory(owner=sam, account=globex, first_name="Lee", email="lee@globex.example"),
        solo=ContactFactory(owner=sam, first_name="Solo", email="solo@free.example"),
        hidden=ContactFactory(owner=stranger, visibility=Visibility.PRIVATE, email="hidden@secret.example"),
    )


def mail_settings(settings, tmp_path: Path) -> Path:
    """Files (raw sources, attachments) go to a fresh folder, and so do lock files (RAPPORT_VAR_DIR: the
    mailbox poll's, which parallel test processes must not share); the mail domain and support address
    are fixed. `settings` is pytest-django's fixture; the files folder is returned."""
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.RAPPORT_MAIL_DOMAIN = DOMAIN
    settings.RAPPORT_SUPPORT_ADDRESS = SUPPORT
    return settings.MEDIA_ROOT


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    return mail_settings(settings, tmp_path)


@pytest.fixture
def office(media) -> Office:
    return build_office()


def message(*, sender: str = "Pat <pat@acme.example>", to: str = "sam@our.example", cc: str = "",
            subject: str = "Hello", text: str | None = "Hi there.", html: str | None = None,
            message_id: str | None = "", **headers: str) -> MimeMessage:
    """A message as a mail client sends it; message_id="" makes a fresh one, None leaves it out."""
    mail = MimeMessage(policy=email.policy.SMTP)  # CRLF line ends, as on the wire
    if sender:
        mail["From"] = sender
    mail["To"] = to
    if cc:
        mail["Cc"] = cc
    mail["Subject"] = subject
    mail["Date"] = email.utils.formatdate(localtime=True)
    if message_id is not None:
        mail["Message-ID"] = message_id or email.utils.make_msgid(domain="mail.example")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    if text is not None:
        mail.set_content(text)
    if html is not None:
        if text is None:
            mail.set_content(html, subtype="html")
        else:
            mail.add_alternative(html, subtype="html")
    return mail


def files_in(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def linked(email_row: EmailMessage) -> set[tuple[str, int]]:
    return set(ActivityLink.objects.filter(activity_id=email_row.activity_id).values_list("record_type", "record_id"))


def log(office: Office, mail: MimeMessage | bytes, *, to: list[str] | None = None, source: str = "smtp"):
    raw = mail if isinstance(mail, bytes) else mail.as_bytes()
    return log_message(raw, recipients=to if to is not None else [office.sam_log], source=source)


# --- Routing and linking -------------------------------------------------------------------------------


def test_mail_sam_bccs_to_a_contact_is_filed_to_the_contact_and_their_account(office):
    result = log(office, message(sender="Sam <sam@our.example>", to="Pat <pat@acme.example>"))
    [row] = result.created
    assert row.owner == office.sam and row.source == "smtp" and row.direction == "out"
    assert row.status == EmailStatus.FILED and row.pending_reason == ""
    assert linked(row) == {("contact", office.pat.pk), ("account", office.acme.pk)}
    assert row.activity.subject == "Hello" and row.activity.owner == office.sam
    assert row.visibility == Visibility.TEAM and row.raw_size > 0
    assert default_storage.open(row.raw.name).read() == result.created[0].raw.read()


def test_a_contacts_mail_forwarded_in_is_inbound_and_filed(office):
    [row] = log(office, message(sender="PAT@ACME.EXAMPLE", to="sam@our.example")).created
    assert row.direction == "in" and row.status == EmailStatus.FILED
    assert linked(row) == {("contact", office.pat.pk), ("account", office.acme.pk)}


def test_a_second_address_and_the_accounts_own_address_match_too(office):
    [row] = log(office, message(sender="sam@our.example", to="q.private@home.example",
                                cc="info@acme.example")).created
    assert linked(row) == {("contact", office.quinn.pk), ("account", office.acme.pk)}


def test_several_people_at_one_account_are_all_filed(office):
    [row] = log(office, message(sender="sam@our.example", to="pat@acme.example, quinn@acme.example")).created
    assert row.status == EmailStatus.FILED
    assert linked(row) == {("contact", office.pat.pk), ("contact", office.quinn.pk), ("account", office.acme.pk)}


def test_people_at_several_companies_leave_it_pending(office):
    [row] = log(office, message(sender="sam@our.example", to="pat@acme.example", cc="lee@globex.example")).created
    assert row.status == EmailStatus.PENDING and row.pending_reason == PendingReason.SEVERAL
    assert row.activity_id is None


def test_a_contact_without_account_is_a_company_of_its_own(office):
    [alone] = log(office, message(sender="solo@free.example")).created
    assert alone.status == EmailStatus.FILED and linked(alone) == {("contact", office.solo.pk)}
    [mixed] = log(office, message(sender="solo@free.example", cc="pat@acme.example")).created
    assert mixed.pending_reason == PendingReason.SEVERAL


def test_an_unknown_sender_leaves_it_pending(office):
    [row] = log(office, message(sender="Nobody <nobody@unknown.example>")).created
    assert row.status == EmailStatus.PENDING and row.pending_reason == PendingReason.NO_MATCH
    assert row.from_name == "Nobody" and row.owner == office.sam


def test_contacts_the_owner_may_not_see_are_not_matched(office):
    [row] = log(office, message(sender="hidden@secret.example")).created
    assert row.pending_reason == PendingReason.NO_MATCH


def test_the_owners_own_and_rapports_addresses_are_never_matched(office):
    ContactFactory(owner=office.sam, email="sam@our.example")  # sam entered himself as a contact
    ContactFactory(owner=office.sam, email=SUPPORT)
    [row] = log(office, message(sender="sam@our.example", to=f"{office.sam_log}, {SUPPORT}")).created
    assert row.pending_reason == PendingReason.NO_MATCH


def test_a_message_forwarded_by_the_owner_is_linked_to_the_original_sender(office):
    text = ("FYI\n\n---------- Forwarded message ---------\nFrom: Pat <pat@acme.example>\n"
            "Subject: Order\nTo: Sam <sam@our.example>\n\nPlease ship.\n")
    [row] = log(office, message(sender="sam@our.example", to=office.sam_log, subject="Fwd: Order", text=text)).created
    assert row.status == EmailStatus.FILED
    assert linked(row) == {("contact", office.pat.pk), ("account", office.acme.pk)}


def test_a_read_only_users_logging_address_takes_no_mail(office):
    viewer = UserFactory(username="viewer", email="viewer@our.example", role_slugs="read-only")
    result = log(office, message(sender="pat@acme.example"), to=[logging_address(viewer)])
    assert result.refused and not EmailMessage.objects.exists()
    # Polled, it goes where mail nobody may log goes: the first administrator.
    [row] = log(office, message(sender="pat@acme.example"), to=[logging_address(viewer)], source="imap").created
    assert row.owner == office.admin


def test_a_message_that_may_not_be_filed_waits_with_a_reason(office, monkeypatch):
    from rapport.mail import services

    def refused(**kwargs):
        raise PermissionDenied("Your role may not change logged email.")

    monkeypatch.setattr(services, "email_file", refused)
    [row] = log(office, message(sender="pat@acme.example")).created
    row.refresh_from_db()
    assert row.status == EmailStatus.PENDING and row.pending_reason == PendingReason.SEVERAL
    assert "Not filed automatically: Your role may not change logged email." in row.parse_warnings


def test_a_message_to_two_users_logging_addresses_is_stored_for_each(office):
    other = UserFactory(username="una", email="una@our.example")
    result = log(office, message(sender="pat@acme.example"), to=[office.sam_log, logging_address(other)])
    assert {row.owner for row in result.created} == {office.sam, other}


def test_smtp_mail_for_no_address_of_ours_is_refused(office):
    result = log(office, message(), to=["someone@else.example", "log-doesnotexist@rapport.test"])
    assert result.refused and not result.emails and not EmailMessage.objects.exists()


def test_an_inactive_users_address_takes_no_mail(office):
    office.sam.is_active = False
    office.sam.save()
    assert log(office, message()).refused


# --- Stored once, threaded ---------------------------------------------------------------------------


def test_the_same_message_twice_is_stored_once(office, media):
    mail = message(sender="pat@acme.example", message_id="<Same.1@Mail.Acme.example>")
    first = log(office, mail)
    again = log(office, mail)
    assert again.duplicate and again.logged == 0 and again.emails == first.created
    [row] = EmailMessage.objects.all()
    assert row.dedupe_key == "same.1@mail.acme.example"
    assert len(files_in(media)) == 1  # the second delivery wrote no file


def test_without_message_id_the_same_bytes_are_stored_once(office):
    raw = message(sender="pat@acme.example", message_id=None).as_bytes()
    log(office, raw)
    assert log(office, raw).duplicate
    [row] = EmailMessage.objects.all()
    assert row.dedupe_key.startswith("sha256:") and row.message_id == ""


def test_replies_join_the_thread_of_the_message_they_answer(office):
    root = message(sender="sam@our.example", to="pat@acme.example", message_id="<root@our.example>")
    reply = message(sender="pat@acme.example", message_id="<reply@acme.example>",
                    In_Reply_To="<root@our.example>", References="<root@our.example>")
    again = message(sender="sam@our.example", to="pat@acme.example", message_id="<again@our.example>",
                    In_Reply_To="<reply@acme.example>")
    keys = [log(office, mail).created[0].thread_key for mail in (root, reply, again)]
    assert keys == ["root@our.example"] * 3


def test_a_reply_to_an_unknown_message_is_threaded_by_its_first_reference(office):
    [row] = log(office, message(In_Reply_To="<b@x>", References="<A@x> <b@x>")).created
    assert row.thread_key == "a@x" and row.in_reply_to == "b@x" and row.references == "A@x b@x"
    [alone] = log(office, message(In_Reply_To="<only@x>")).created
    assert alone.thread_key == "only@x"


# --- Bad input ------------------------------------------------------------------------------------------


def test_header_injection_is_stored_as_one_line(office):
    raw = (b"From: =?utf-8?q?Pat=0D=0ABcc=3A_all=40acme=2Eexample?= <pat@acme.example>\r\n"
           b"To: sam@our.example\r\nMessage-ID: <inj@acme.example>\r\n"
           b"Subject: =?utf-8?q?Invoice=0D=0ABcc=3A_everyone=40x=2Eexample?=\r\n\r\nbody\r\n")
    [row] = log(office, raw).created
    assert row.subject == "Invoice Bcc: everyone@x.example"
    assert row.from_name == "Pat Bcc: all@acme.example" and row.from_address == "pat@acme.example"
    assert "\n" not in row.activity.subject


def test_html_is_stored_sanitised_and_its_text_kept(office):
    html = '<p onmouseover="x()">Dear Sam</p><script>alert(1)</script><img src="https://t.example/p.gif">'
    [row] = log(office, message(sender="pat@acme.example", text=None, html=html)).created
    assert row.html_body.strip() == "<p>Dear Sam</p><img>"
    assert row.text_body == "Dear Sam"


def test_attachments_are_stored_under_generated_names_with_both_types(office):
    mail = message(sender="pat@acme.example")
    mail.add_attachment(b"<html><body onload=alert(1)>hi</body></html>", maintype="image", subtype="png",
                        filename="../../evil.png")
    mail.add_attachment(b"%PDF-1.7 offer", maintype="application", subtype="pdf", filename="Offer.pdf")
    [row] = log(office, mail).created
    fake, offer = row.attachments.order_by("id")
    assert (fake.filename, fake.declared_type, fake.detected_type) == ("evil.png", "image/png", "text/html")
    assert "evil" not in fake.file.name and not fake.file.name.endswith(".png")
    assert fake.file.read() == b"<html><body onload=alert(1)>hi</body></html>"
    assert (offer.detected_type, offer.size) == ("application/pdf", 14) and len(offer.sha256) == 64


def test_a_message_without_from_is_stored_pending(office):
    [row] = log(office, message(sender="", to="pat@acme.example")).created
    assert row.from_address == "" and "The message has no From address." in row.parse_warnings
    # Sent to Pat: matched by its To.
    assert row.status == EmailStatus.FILED


def test_malformed_mime_is_stored_with_warnings(office):
    raw = (b"From: pat@acme.example\r\nSubject: =?bogus-charset?q?Gr=FC=DFe?=\r\n"
           b"Content-Type: multipart/mixed; boundary=\"missing\"\r\n\r\nno parts here\r\n")
    [row] = log(office, raw).created
    assert row.subject == "Grüße"
    assert any("bogus-charset" in warning for warning in row.parse_warnings)
    assert any(warning.startswith("Malformed") for warning in row.parse_warnings)


def test_a_message_over_the_limit_is_refused(office, settings):
    settings.RAPPORT_MAIL_MAX_BYTES = 1000
    result = log(office, message(text="x" * 2000))
    assert result.refused and not EmailMessage.objects.exists()


def test_a_failed_store_leaves_no_row_and_no_file(office, media, monkeypatch):
    mail = message(sender="pat@acme.example")
    mail.add_attachment(b"%PDF-1", maintype="application", subtype="pdf", filename="a.pdf")

    def broken(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(EmailAttachment, "save", broken)
    with pytest.raises(RuntimeError):
        log(office, mail)
    assert not EmailMessage.objects.exists()
    assert files_in(media) == []


# --- Support address -------------------------------------------------------------------------------------


def test_mail_to_the_support_address_opens_an_item_that_shows_the_message(office):
    result = log(office, message(sender="Pat <pat@acme.example>", to=SUPPORT, subject="Printer on fire",
                                 text="Help!"), to=[SUPPORT])
    item = result.support_item
    assert item.contact == office.pat and item.subject == "Printer on fire" and item.owner == office.desk
    [row] = result.created
    assert row.source == "support" and row.owner == item.owner and row.status == EmailStatus.FILED
    assert ("support_item", item.pk) in linked(row) and ("contact", office.pat.pk) in linked(row)


def test_support_mail_naming_an_item_adds_to_it(office):
    first = log(office, message(sender="pat@acme.example", to=SUPPORT, subject="Broken"), to=[SUPPORT]).support_item
    result = log(office, message(sender="quinn@acme.example", to=SUPPORT, subject=f"Re: [{first.reference}] Broken",
                                 text="Still broken."), to=[SUPPORT])
    assert result.support_item == first and SupportItem.objects.count() == 1
    assert "Still broken." in Note.objects.get(about_type="support_item", about_id=first.pk).body
    assert ("support_item", first.pk) in linked(result.created[0])


def test_the_same_support_mail_twice_opens_one_item(office):
    mail = message(sender="pat@acme.example", to=SUPPORT, message_id="<once@acme.example>")
    log(office, mail, to=[SUPPORT])
    again = log(office, mail, to=[SUPPORT])
    assert again.duplicate and SupportItem.objects.count() == 1 and EmailMessage.objects.count() == 1


def test_support_and_a_logging_address_give_two_copies(office):
    result = log(office, message(sender="pat@acme.example", to=SUPPORT), to=[SUPPORT, office.sam_log])
    assert {row.source for row in result.created} == {"support", "smtp"}
    assert {row.owner for row in result.created} == {office.desk, office.sam}


# --- Mailbox (IMAP) routing ------------------------------------------------------------------------------


def test_polled_mail_without_a_logging_address_is_the_senders_own(office):
    [row] = log(office, message(sender="sam@our.example", to="pat@acme.example"), to=["pat@acme.example",
                                                                                    "crm@our.example"],
                source="imap").created
    assert row.owner == office.sam and row.direction == "out" and row.source == "imap"
    assert row.status == EmailStatus.FILED


def test_polled_mail_from_anyone_else_goes_to_the_first_admin(office):
    [row] = log(office, message(sender="pat@acme.example", to="crm@our.example"), to=["crm@our.example"],
                source="imap").created
    assert row.owner == office.admin and row.direction == "in"


def test_polled_mail_to_a_logging_address_is_that_users(office):
    [row] = log(office, message(sender="pat@acme.example", to=office.sam_log), to=[office.sam_log],
                source="imap").created
    assert row.owner == office.sam


# --- Campaigns --------------------------------------------------------------------------------------------


def _campaign_message(office: Office, address: str, message_id: str):
    from django.utils import timezone

    from rapport.campaigns.models import Campaign, CampaignRecipient, DistributionList
    from rapport.mail.models import OutboxMessage
    from tests.factories import TemplateFactory

    dlist = DistributionList(owner=office.sam, name="Newsletter")
    dlist.derive()
    dlist.save()
    campaign = Campaign(owner=office.sam, name="Spring", distribution_list=dlist, template=TemplateFactory(
        owner=office.sam), status="sending", started_at=timezone.now())
    campaign.derive()
    campaign.save()
    outbox = OutboxMessage.objects.create(kind="campaign", from_email="news@our.example", to=[address],
                                          subject="Spring news", body="News", message_id=f"<{message_id}>",
                                          next_attempt_at=timezone.now(), status="sent")
    return CampaignRecipient.objects.create(campaign=campaign, email=address, status="sent", outbox_message=outbox)


def bounce_for(message_id: str, address: str) -> bytes:
    return (f"From: MAILER-DAEMON@mx.example\r\nTo: {{to}}\r\nSubject: Undelivered Mail\r\n"
            f"Message-ID: <bounce-{message_id}>\r\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
            f"--R\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
            f"--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
            f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            f"--R\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{message_id}>\r\n\r\n--R--\r\n").encode()


def test_a_bounce_of_a_campaign_message_is_consumed_not_logged(office):
    recipient = _campaign_message(office, "gone@acme.example", "spring-1@our.example")
    raw = bounce_for("spring-1@our.example", "gone@acme.example").replace(b"{to}", office.sam_log.encode())
    result = log(office, raw)
    assert result.bounce and not result.emails and not EmailMessage.objects.exists()
    recipient.refresh_from_db()
    assert recipient.status == "bounced"


def test_a_reply_to_a_campaign_message_is_logged_and_marks_the_recipient(office):
    recipient = _campaign_message(office, "pat@acme.example", "spring-2@our.example")
    result = log(office, message(sender="pat@acme.example", In_Reply_To="<spring-2@our.example>"))
    assert result.logged == 1 and result.created[0].status == EmailStatus.FILED
    recipient.refresh_from_db()
    assert recipient.status == "replied"


def test_a_bounce_of_other_mail_is_logged(office):
    raw = bounce_for("private-mail@our.example", "gone@nowhere.example").replace(b"{to}", office.sam_log.encode())
    result = log(office, raw)
    assert not result.bounce and result.logged == 1


# --- Only real delivery reports are bounces ----------------------------------------------------------------


def test_x_failed_recipients_from_anyone_is_mail_and_suppresses_nobody(office, caplog):
    # The reviewer's reproduction: From mallory, to the support address, naming a recipient campaigns mailed.
    from rapport.campaigns.models import Suppression

    recipient = _campaign_message(office, "victim@acme.example", "spring-3@our.example")
    raw = (b"From: Mallory <mallory@evil.example>\r\nTo: " + SUPPORT.encode() + b"\r\n"
           b"Subject: Undeliverable\r\nMessage-ID: <forged@evil.example>\r\n"
           b"X-Failed-Recipients: victim@acme.example\r\n\r\nMessage-ID: <spring-3@our.example>\r\n")
    result = log_message(raw, recipients=[SUPPORT], source="smtp", envelope_sender="mallory@evil.example")
    assert not result.bounce and result.support_item is not None and SupportItem.objects.count() == 1
    recipient.refresh_from_db()
    assert recipient.status == "sent" and not Suppression.objects.exists()
    # The same to a logging address, even from the null sender: logged as mail.
    result = log_message(raw.replace(b"forged@", b"forged-2@"), recipients=[office.sam_log], source="smtp")
    assert not result.bounce and result.logged == 1 and not Suppression.objects.exists()
    assert "bounce" not in caplog.text


def test_a_delivery_report_to_the_support_address_is_never_consumed(office):
    recipient = _campaign_message(office, "gone@acme.example", "spring-4@our.example")
    raw = bounce_for("spring-4@our.example", "gone@acme.example").replace(b"{to}", SUPPORT.encode())
    result = log_message(raw, recipients=[SUPPORT], source="smtp", envelope_sender="")
    assert not result.bounce and result.support_item is not None
    recipient.refresh_from_db()
    assert recipient.status == "sent"


def test_a_bounce_must_come_from_the_null_or_a_mail_daemons_envelope_sender(office, caplog):
    recipient = _campaign_message(office, "gone@acme.example", "spring-5@our.example")
    raw = bounce_for("spring-5@our.example", "gone@acme.example").replace(b"{to}", office.sam_log.encode())
    forwarded = log_message(raw, recipients=[office.sam_log], source="smtp", envelope_sender="pat@acme.example")
    assert not forwarded.bounce and forwarded.logged == 1
    recipient.refresh_from_db()
    assert recipient.status == "sent"
    EmailMessage.objects.all().delete()
    caplog.set_level("INFO", logger="rapport.mail.intake")
    daemon = log_message(raw, recipients=[office.sam_log], source="smtp",
                         envelope_sender="<MAILER-DAEMON@mx.example>")
    assert daemon.bounce and not EmailMessage.objects.exists()
    recipient.refresh_from_db()
    assert recipient.status == "bounced"
    # Every bounce consumed is in the log, with what it named.
    assert "as a bounce of campaign mail" in caplog.text and "spring-5@our.example" in caplog.text
    assert "gone@acme.example" in caplog.text and "MAILER-DAEMON@mx.example" in caplog.text


def test_a_mail_daemons_notice_must_name_the_failed_message_not_only_an_address(office):
    recipient = _campaign_message(office, "gone@acme.example", "spring-6@our.example")
    notice = (b"From: Mail Delivery Subsystem <mailer-daemon@mx.example>\r\nTo: " + office.sam_log.encode() +
              b"\r\nSubject: Delivery Status Notification (Failure)\r\nX-Failed-Recipients: gone@acme.example\r\n"
              b"Message-ID: <notice-1@mx.example>\r\n\r\nAddress not found.\r\n")
    assert not log_message(notice, recipients=[office.sam_log], source="smtp").bounce
    recipient.refresh_from_db()
    assert recipient.status == "sent"
    quoted = notice.replace(b"notice-1@", b"notice-2@") + b"\r\n----- Original message -----\r\n" \
        b"Message-ID: <spring-6@our.example>\r\n"
    assert log_message(quoted, recipients=[office.sam_log], source="smtp").bounce
    recipient.refresh_from_db()
    assert recipient.status == "bounced"


# --- The support address: one item per message, whatever way it came ------------------------------------------


def test_support_mail_the_desk_logged_first_is_filed_to_one_item(office):
    desk_log = logging_address(office.desk)
    mail = message(sender="pat@acme.example", to=f"{SUPPORT}, {desk_log}", message_id="<both@acme.example>")
    [own] = log(office, mail, to=[desk_log]).created  # the desk's own copy, filed to Pat
    assert own.owner == office.desk and ("contact", office.pat.pk) in linked(own)
    first = log(office, mail, to=[SUPPORT])
    assert first.support_item is not None and first.duplicate and first.emails == [own]
    own.refresh_from_db()
    assert ("support_item", first.support_item.pk) in linked(own) and ("contact", office.pat.pk) in linked(own)
    for _again in range(2):
        again = log(office, mail, to=[SUPPORT])
        assert again.duplicate and again.support_item is None
    assert SupportItem.objects.count() == 1 and EmailMessage.objects.count() == 1
    assert Note.objects.filter(about_type="support_item").count() == 0


def test_a_note_is_added_once_for_a_repeated_reply(office):
    item = log(office, message(sender="pat@acme.example", to=SUPPORT, subject="Broken"), to=[SUPPORT]).support_item
    reply = message(sender="pat@acme.example", to=SUPPORT, subject=f"Re: [{item.reference}] Broken",
                    message_id="<reply-once@acme.example>")
    log(office, reply, to=[SUPPORT])
    log(office, reply, to=[SUPPORT])
    assert Note.objects.filter(about_type="support_item", about_id=item.pk).count() == 1


def _missed_once(monkeypatch, name: str) -> None:
    """The intake function `name` answers None the first time: a check made just before someone else's store."""
    from rapport.mail import intake

    real = getattr(intake, name)
    calls = []

    def missed(*args, **kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(intake, name, missed)


def test_a_support_message_stored_meanwhile_opens_no_second_item(office, monkeypatch):
    mail = message(sender="pat@acme.example", to=SUPPORT, message_id="<meanwhile@acme.example>")
    first = log(office, mail, to=[SUPPORT])
    _missed_once(monkeypatch, "_on_support_item")  # the second delivery's check ran before the first's commit
    again = log(office, mail, to=[SUPPORT])
    assert again.duplicate and again.emails == first.created and again.support_item is None
    assert SupportItem.objects.count() == 1


def test_the_owners_copy_stored_meanwhile_is_filed_to_the_item(office, monkeypatch):
    mail = message(sender="pat@acme.example", to=SUPPORT, message_id="<owners@acme.example>")
    [own] = log(office, mail, to=[logging_address(office.desk)]).created
    _missed_once(monkeypatch, "_existing")
    result = log(office, mail, to=[SUPPORT])
    assert result.emails == [own] and SupportItem.objects.count() == 1
    assert ("support_item", result.support_item.pk) in linked(own)


# --- Sizes that must not reach the database whole -------------------------------------------------------------


def test_a_message_with_300000_references_is_stored(office):
    ids = " ".join(f"<r{number}@x.example>" for number in range(300_000))
    raw = (f"From: pat@acme.example\r\nTo: sam@our.example\r\nMessage-ID: <long@acme.example>\r\n"
           f"References: {ids}\r\nIn-Reply-To: <r299999@x.example>\r\nSubject: long\r\n\r\nbody\r\n").encode()
    [row] = log(office, raw).created
    assert row.thread_key == "r0@x.example" and row.in_reply_to == "r299999@x.example"
    assert len(row.references.split()) == 21


def test_an_absurd_date_is_stored_as_none_with_a_warning(office):
    raw = (b"From: pat@acme.example\r\nTo: sam@our.example\r\nDate: Fri, 31 Dec 9999 23:59:59 -1200\r\n"
           b"Subject: from the future\r\n\r\nbody\r\n")
    [row] = log(office, raw).created
    row.refresh_from_db()
    assert row.sent_at is None and any(warning.startswith("Date:") for warning in row.parse_warnings)


ON_POSTGRES = django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _at_once(*calls):
    """Run the calls in threads released together, each on its own connection; ("ok"|"error", value) each."""
    barrier = threading.Barrier(len(calls))
    results: list = [("none", None)] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", call())
        except Exception as exc:
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent writers on real connections "
                                            "(SQLite's in-memory test database answers 'table is locked' at once)")
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_support_message_at_the_same_moment_count_once(settings, tmp_path, monkeypatch):
    from rapport.support import services as support_services
    from tests.conftest import restore_migration_data

    restore_migration_data()
    mail_settings(settings, tmp_path)
    office = build_office()
    item = log(office, message(sender="pat@acme.example", to=SUPPORT, subject="Broken"), to=[SUPPORT]).support_item
    reply = message(sender="pat@acme.example", to=f"{SUPPORT}, {logging_address(item.owner)}",
                    subject=f"Re: [{item.reference}] Broken", message_id="<race@acme.example>")
    # The item's owner holds the reply already, so no new row's unique key makes the second delivery wait.
    log(office, reply, to=[logging_address(item.owner)])
    original = support_services.support_item_from_email

    def slow(**kwargs):
        found = original(**kwargs)
        time.sleep(0.3)  # whoever comes first keeps its transaction open a moment
        return found

    monkeypatch.setattr(support_services, "support_item_from_email", slow)
    raw = reply.as_bytes()
    results = _at_once(*[lambda: log_message(raw, recipients=[SUPPORT], source="smtp")] * 2)
    assert [outcome for outcome, _value in results] == ["ok", "ok"], results
    assert SupportItem.objects.count() == 1 and EmailMessage.objects.count() == 2
    assert Note.objects.filter(about_type="support_item", about_id=item.pk).count() == 1
