"""The pages of logged email: the list (pending and all, filters, paging), a message's page (its HTML shown
safely, the thread, where it is filed), downloads, the pending panel of My Home and the actions there, and
the logging address on the settings page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.base import ContentFile

from rapport.directory.models import Contact
from rapport.mail.models import EmailMessage, EmailStatus
from rapport.mail.selectors import logging_address
from rapport.mail.services import email_file
from tests.conftest import client_for
from tests.factories import AccountFactory, ContactFactory, EmailAttachmentFactory, EmailMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


def fresh(email: EmailMessage) -> EmailMessage:
    return EmailMessage.objects.get(pk=email.pk)


def ids(response) -> set[str]:
    return set(re.findall(r'href="/emails/([a-z2-7]{16})/"', response.content.decode()))


# --- The list -------------------------------------------------------------------------------------------


def test_the_list_opens_on_my_pending_mail_and_shows_all_i_may_see_on_the_other_tab(personas):
    owner = personas.owner
    mine = EmailMessageFactory(owner=owner, subject="Mine pending")
    filed = EmailMessageFactory(owner=owner, subject="Mine filed", status=EmailStatus.FILED)
    discarded = EmailMessageFactory(owner=owner, subject="Mine discarded", status=EmailStatus.DISCARDED)
    shared = EmailMessageFactory(owner=personas.teammate, subject="Team mail", visibility="team")
    hidden = EmailMessageFactory(owner=personas.outsider, subject="Outsider's", visibility="private")
    client = client_for(owner)

    pending = client.get("/emails/")
    assert pending.status_code == 200
    assert ids(pending) == {mine.public_id}
    assert 'aria-current="page">Pending (mine)' in pending.content.decode()

    everything = client.get("/emails/?view=all")
    assert ids(everything) == {mine.public_id, filed.public_id, shared.public_id}
    assert hidden.public_id not in everything.content.decode()
    assert ids(client.get("/emails/?view=all&status=discarded")) == {discarded.public_id}
    assert ids(client.get("/emails/?view=all&status=filed")) == {filed.public_id}
    assert ids(client.get("/emails/?view=all&owner=me")) == {mine.public_id, filed.public_id}


def test_filters_by_sender_subject_account_and_date(personas):
    owner = personas.owner
    account = AccountFactory(owner=owner)
    now = dt.datetime(2026, 5, 10, 12, 0, tzinfo=dt.UTC)
    anna = EmailMessageFactory(owner=owner, from_name="Anna Berg", from_address="anna@fjord.no", subject="Quote",
                               received_at=now)
    bo = EmailMessageFactory(owner=owner, from_name="Bo", from_address="bo@example.com", subject="Invoice",
                             received_at=now - dt.timedelta(days=3))
    email_file(actor=owner, email=bo, records=[account])
    client = client_for(owner)
    assert ids(client.get("/emails/?view=all&from=fjord")) == {anna.public_id}
    assert ids(client.get("/emails/?view=all&from=anna berg")) == {anna.public_id}
    assert ids(client.get("/emails/?view=all&q=invoice")) == {bo.public_id}
    assert ids(client.get(f"/emails/?view=all&account={account.public_id}")) == {bo.public_id}
    assert ids(client.get("/emails/?view=all&since=2026-05-09")) == {anna.public_id}
    assert ids(client.get("/emails/?view=all&until=2026-05-07")) == {bo.public_id}
    assert ids(client.get("/emails/?view=all&since=2026-05-10T11:00:00%2B00:00")) == {anna.public_id}


@pytest.mark.parametrize(("query", "field"), [
    ("status=lost", "status"), ("since=yesterday", "since"), ("view=everything", "view"), ("colour=red", "colour"),
    ("account=nosuchaccount", "account"), ("owner=nosuchuser", "owner"), ("cursor=forged", "cursor"),
])
def test_a_bad_filter_is_named_and_answers_400(personas, query, field):
    response = client_for(personas.owner).get(f"/emails/?{query}" if field == "view" else f"/emails/?view=all&{query}")
    assert response.status_code == 400
    assert f"{field}:" in response.content.decode()


def test_the_list_pages_by_cursor_without_losing_or_repeating_a_row(personas):
    owner = personas.owner
    base = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    made = {EmailMessageFactory(owner=owner, received_at=base + dt.timedelta(minutes=n // 2)).public_id
            for n in range(7)}
    client = client_for(owner)
    seen: list[str] = []
    url = "/emails/?view=pending&limit=3"
    while url:
        response = client.get(url)
        page = re.findall(r'href="/emails/([a-z2-7]{16})/"', response.content.decode())
        seen += page
        found = re.search(r'rel="next" href="([^"]+)"', response.content.decode())
        url = "/emails/" + found.group(1).replace("&amp;", "&") if found else ""
    assert len(seen) == 7 and set(seen) == made


def test_the_count_part(personas):
    for _n in range(3):
        EmailMessageFactory(owner=personas.owner)
    response = client_for(personas.owner).get("/emails/?view=pending&part=count")
    assert response.status_code == 200 and "3" in response.content.decode()


def test_the_nav_badge_counts_my_pending_mail(personas):
    EmailMessageFactory(owner=personas.owner)
    EmailMessageFactory(owner=personas.owner)
    page = client_for(personas.owner).get("/settings/").content.decode()
    assert re.search(r'href="/emails/"[^>]*>Email <span class="nav-badge" title="pending email">'
                     r'<span aria-hidden="true">2</span>', page)


# --- A message's page -------------------------------------------------------------------------------------


def test_the_page_shows_the_message_its_thread_and_where_it_is_filed(personas):
    owner = personas.owner
    contact = ContactFactory(owner=owner, first_name="Anna", last_name="Berg")
    first = EmailMessageFactory(owner=owner, subject="Quote request", message_id="q1@x", thread_key="q1@x",
                                to=["sales@example.net"], cc=["boss@example.com"], text_body="Line one\nLine two",
                                visibility="everyone")
    reply = EmailMessageFactory(owner=personas.teammate, subject="Re: Quote request", message_id="q2@x",
                                thread_key="q1@x", visibility="everyone")
    EmailMessageFactory(owner=personas.outsider, subject="Re: hidden", message_id="q3@x", thread_key="q1@x",
                        visibility="private")
    email_file(actor=owner, email=first, records=[contact])
    attachment = EmailAttachmentFactory(email=first, filename="price list.pdf", declared_type="application/pdf",
                                        detected_type="application/pdf")
    page = client_for(owner).get(f"/emails/{first.public_id}/").content.decode()
    assert "Quote request" in page and "Line one\nLine two" in page and "boss@example.com" in page
    assert f'href="/contacts/{contact.public_id}/"' in page
    assert f'href="/emails/{reply.public_id}/"' in page and "Re: hidden" not in page
    assert f'href="/emails/{first.public_id}/attachments/{attachment.public_id}/"' in page
    assert f'href="/emails/{first.public_id}/raw/"' in page
    assert "File again" in page


def test_the_html_is_shown_in_a_sandbox_without_scripts_or_remote_loads(personas):
    owner = personas.owner
    email = EmailMessageFactory(owner=owner, text_body="", html_body='<p>Hi <b>there</b> & "you"</p><img src="https://t.example/x.png">')
    page = client_for(owner).get(f"/emails/{email.public_id}/").content.decode()
    frame = re.search(r"<iframe ([^>]*)>", page).group(1)
    sandbox = re.search(r'sandbox="([^"]*)"', frame).group(1)
    assert "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    # The HTML is inside the attribute, escaped: it cannot close the attribute or the frame.
    assert srcdoc.endswith("&lt;p&gt;Hi &lt;b&gt;there&lt;/b&gt; &amp; &quot;you&quot;&lt;/p&gt;&lt;img src=&quot;"
                           "https://t.example/x.png&quot;&gt;")
    assert "Content-Security-Policy" in srcdoc and "default-src &#x27;none&#x27;" in srcdoc
    assert "<p>Hi" not in page


def test_someone_who_may_not_see_it_gets_404_everywhere(personas):
    email = EmailMessageFactory(owner=personas.owner, visibility="private")
    attachment = EmailAttachmentFactory(email=email)
    client = client_for(personas.outsider)
    for url in (f"/emails/{email.public_id}/", f"/emails/{email.public_id}/raw/",
                f"/emails/{email.public_id}/attachments/{attachment.public_id}/"):
        assert client.get(url).status_code == 404, url
    for action in ("file", "discard", "restore", "create-contact"):
        assert client.post(f"/emails/{email.public_id}/{action}/").status_code == 404
    assert fresh(email).version == email.version


def test_a_reader_who_may_not_change_it_sees_no_actions_and_gets_403(personas):
    email = EmailMessageFactory(owner=personas.owner, visibility="everyone")
    client = client_for(personas.teammate)
    page = client.get(f"/emails/{email.public_id}/").content.decode()
    assert "Discard" not in page and "File this message" not in page
    assert client.post(f"/emails/{email.public_id}/discard/", {"version": email.version}).status_code == 403
    assert fresh(email).status == EmailStatus.PENDING


# --- Downloads ----------------------------------------------------------------------------------------------


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_raw_source_downloads_as_an_attachment(personas):
    raw = b"From: a@example.com\r\nSubject: Hi\r\n\r\n<script>alert(1)</script>\r\n"
    email = EmailMessageFactory(owner=personas.owner, subject='Hi "there"\r\nX-Evil: 1', raw=ContentFile(raw, "m.eml"))
    response = client_for(personas.owner).get(f"/emails/{email.public_id}/raw/")
    assert response.status_code == 200 and _body(response) == raw
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;") and ".eml" in response["Content-Disposition"]
    assert response["Content-Disposition"] == 'attachment; filename="Hi_thereX-Evil_1.eml"'
    assert "X-Evil" not in response.headers
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(("filename", "declared", "detected", "served"), [
    ("report.pdf", "application/pdf", "application/pdf", "application/pdf"),
    ("invoice.pdf", "application/pdf", "text/html", "application/octet-stream"),  # claims one type, is another
    ("page.html", "text/html", "text/html", "application/octet-stream"),  # never rendered by the browser
    ("image.svg", "image/svg+xml", "image/svg+xml", "application/octet-stream"),
    ("../../etc/passwd", "text/plain", "text/plain", "text/plain"),
])
def test_attachments_download_with_a_safe_type_and_name(personas, filename, declared, detected, served):
    attachment = EmailAttachmentFactory(email=EmailMessageFactory(owner=personas.owner), filename=filename,
                                        declared_type=declared, detected_type=detected)
    response = client_for(personas.owner).get(f"/emails/{attachment.email.public_id}/attachments/"
                                              f"{attachment.public_id}/")
    assert response.status_code == 200 and _body(response) == b"Some notes.\n"
    assert response["Content-Type"] == served
    assert response["Content-Disposition"].startswith("attachment;")
    assert "/" not in response["Content-Disposition"].split("filename", 1)[1]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_attachment_of_another_message_is_not_found(personas):
    mine = EmailMessageFactory(owner=personas.owner)
    other = EmailAttachmentFactory(email=EmailMessageFactory(owner=personas.owner))
    response = client_for(personas.owner).get(f"/emails/{mine.public_id}/attachments/{other.public_id}/")
    assert response.status_code == 404


def test_a_missing_file_is_404_not_500(personas):
    email = EmailMessageFactory(owner=personas.owner)
    email.raw.delete(save=False)
    assert client_for(personas.owner).get(f"/emails/{email.public_id}/raw/").status_code == 404


# --- Actions on the page ------------------------------------------------------------------------------------


def test_file_from_the_page_then_again(personas):
    owner = personas.owner
    contact = ContactFactory(owner=owner, first_name="Anna", last_name="Berg")
    account = AccountFactory(owner=owner, name="Other Co")
    email = EmailMessageFactory(owner=owner)
    client = client_for(owner)
    response = client.post(f"/emails/{email.public_id}/file/", {"records": [contact.ref, ""], "version": email.version})
    assert response.status_code == 302 and response["Location"] == f"/emails/{email.public_id}/"
    assert fresh(email).status == EmailStatus.FILED
    email = fresh(email)
    response = client.post(f"/emails/{email.public_id}/file/", {"records": [account.ref], "version": email.version})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Other Co" in page and "filed to Other Co" in page


def test_file_refusals_show_on_the_page_and_change_nothing(personas):
    owner = personas.owner
    hidden = AccountFactory(owner=personas.outsider, visibility="private")
    email = EmailMessageFactory(owner=owner)
    client = client_for(owner)
    cases = [({"version": email.version}, 400, "Choose at least one record"),
             ({"records": [hidden.ref], "version": email.version}, 400, "No such account"),
             ({"records": ["nonsense"], "version": email.version}, 400, "type:id"),
             ({"records": [AccountFactory(owner=owner).ref], "version": email.version + 1}, 409, "changed by someone")]
    for data, status, text in cases:
        response = client.post(f"/emails/{email.public_id}/file/", data)
        assert response.status_code == status, data
        assert text in response.content.decode()
    assert fresh(email).version == email.version and fresh(email).status == EmailStatus.PENDING


def test_create_contact_from_the_page(personas):
    owner = personas.owner
    account = AccountFactory(owner=owner, name="Fjord Freight")
    email = EmailMessageFactory(owner=owner, from_name="Anna Berg", from_address="anna@fjord.no")
    client = client_for(owner)
    page = client.get(f"/emails/{email.public_id}/").content.decode()
    assert 'value="Anna"' in page and 'value="Berg"' in page and 'value="anna@fjord.no"' in page
    response = client.post(f"/emails/{email.public_id}/create-contact/", {
        "contact-first_name": "Anna", "contact-last_name": "Berg-Olsen", "contact-email": "anna@fjord.no",
        "contact-account": account.public_id, "version": email.version})
    assert response.status_code == 302
    email = fresh(email)
    assert email.status == EmailStatus.FILED
    made = Contact.objects.get(last_name="Berg-Olsen")
    assert made.account == account and made.email == "anna@fjord.no"
    # A second message from the same address: the duplicate is named and offered instead.
    second = EmailMessageFactory(owner=owner, from_name="Anna Berg", from_address="anna@fjord.no")
    response = client.post(f"/emails/{second.public_id}/create-contact/", {"version": second.version})
    assert response.status_code == 409
    assert f'value="{made.ref}"' in response.content.decode()
    bad = client.post(f"/emails/{second.public_id}/create-contact/", {"contact-email": "not an address",
                                                                      "version": second.version})
    assert bad.status_code == 400 and "Email:" in bad.content.decode()
    assert Contact.objects.count() == 1


def test_discard_and_restore_from_the_page(personas):
    owner = personas.owner
    email = EmailMessageFactory(owner=owner)
    client = client_for(owner)
    assert client.post(f"/emails/{email.public_id}/discard/", {"version": email.version}).status_code == 302
    assert fresh(email).status == EmailStatus.DISCARDED
    assert client.post(f"/emails/{email.public_id}/discard/", {"version": fresh(email).version}).status_code == 409
    page = client.get(f"/emails/{email.public_id}/").content.decode()
    assert "Restore to pending" in page
    assert client.post(f"/emails/{email.public_id}/restore/", {"version": fresh(email).version}).status_code == 302
    assert fresh(email).status == EmailStatus.PENDING
    assert client.get(f"/emails/{email.public_id}/discard/").status_code == 405


def test_the_lookup_offers_visible_records_of_each_kind(personas):
    owner = personas.owner
    ContactFactory(owner=owner, first_name="Anna", last_name="Berg", email="anna@x.com")
    AccountFactory(owner=owner, name="Berg Freight")
    AccountFactory(owner=personas.outsider, name="Berg Secret", visibility="private")
    response = client_for(owner).get("/emails/lookup/?lookup=berg")
    text = response.content.decode()
    assert '<optgroup label="Contact">' in text and '<optgroup label="Account">' in text
    assert "Anna Berg" in text and "Berg Freight" in text and "Berg Secret" not in text
    assert "search first" in client_for(owner).get("/emails/lookup/").content.decode()


# --- My Home's panel ------------------------------------------------------------------------------------


def test_my_home_loads_the_panel(personas):
    page = client_for(personas.owner).get("/home/").content.decode()
    assert 'hx-get="/emails/pending/"' in page


def test_the_panel_lists_my_pending_mail_with_suggestions_and_actions(personas):
    owner = personas.owner
    anna = ContactFactory(owner=owner, first_name="Anna", last_name="Berg", email="anna@example.com")
    EmailMessageFactory(owner=owner, subject="Where is my order?", from_name="Anna Berg",
                        from_address="anna@example.com", pending_reason="several")
    EmailMessageFactory(owner=personas.teammate, visibility="everyone", subject="Not mine")
    panel = client_for(owner).get("/emails/pending/").content.decode()
    assert "Where is my order?" in panel and "Not mine" not in panel
    assert "Matches several records" in panel
    assert f'value="{anna.ref}"' in panel
    assert "Create contact “Anna Berg”" in panel and "Discard" in panel


def test_the_panel_is_empty_but_says_how_mail_gets_there(personas):
    panel = client_for(personas.owner).get("/emails/pending/").content.decode()
    assert "Nothing waits to be filed" in panel and "#email-logging" in panel


def test_actions_from_the_panel_answer_the_panel_again(personas):
    owner = personas.owner
    contact = ContactFactory(owner=owner, first_name="Anna", last_name="Berg")
    first = EmailMessageFactory(owner=owner, subject="First")
    second = EmailMessageFactory(owner=owner, subject="Second", from_name="Cleo Dahl", from_address="cleo@x.com")
    third = EmailMessageFactory(owner=owner, subject="Third")
    client = client_for(owner)
    htmx = {"HTTP_HX_REQUEST": "true"}
    response = client.post(f"/emails/{first.public_id}/file/",
                           {"records": [contact.ref], "version": first.version, "panel": "1"}, **htmx)
    assert response.status_code == 200 and 'id="pending-email"' in response.content.decode()
    assert "“First” was filed to Anna Berg." in response.content.decode()
    assert ">First<" not in response.content.decode()
    response = client.post(f"/emails/{second.public_id}/create-contact/",
                           {"version": second.version, "panel": "1"}, **htmx)
    assert response.status_code == 200 and "Cleo Dahl was created" in response.content.decode()
    response = client.post(f"/emails/{third.public_id}/discard/", {"version": third.version + 1, "panel": "1"}, **htmx)
    assert response.status_code == 409 and "changed by someone" in response.content.decode()
    response = client.post(f"/emails/{third.public_id}/file/", {"version": third.version, "panel": "1"}, **htmx)
    assert response.status_code == 400 and "Choose at least one record" in response.content.decode()
    response = client.post(f"/emails/{third.public_id}/discard/", {"version": third.version, "panel": "1"}, **htmx)
    assert response.status_code == 200 and "Nothing waits to be filed" in response.content.decode()


# --- The logging address ------------------------------------------------------------------------------------


def test_the_settings_page_shows_my_logging_address(personas, settings):
    settings.RAPPORT_MAIL_DOMAIN = "crm.example.org"
    page = client_for(personas.owner).get("/settings/profile/").content.decode()
    address = logging_address(personas.owner)
    assert 'id="email-logging"' in page and f'value="{address}"' in page and "BCC" in page


def test_a_read_only_user_is_offered_no_logging_address(personas):
    from tests.conftest import client_for

    viewer = client_for(personas.viewer)
    assert viewer.get("/api/v1/me").json()["logging_address"] is None
    assert 'id="logging-address"' not in viewer.get("/settings/profile/").content.decode()
    owner = client_for(personas.owner)
    assert owner.get("/api/v1/me").json()["logging_address"].startswith("log-")
    assert 'id="logging-address"' in owner.get("/settings/profile/").content.decode()
