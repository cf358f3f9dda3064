"""Pinned query counts of the logged-email reads: the list (pending and all), a message's page, My Home's
pending panel, the "file to" lookup, the downloads and the API cost the same for 3 messages of each sort as
for 30 (no query per row, per attachment, per filed record or per suggestion).

If a change adds a query on purpose, update the number here and say why in the commit.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.mail.models import EmailMessage
from rapport.mail.services import email_file
from tests.conftest import client_for
from tests.factories import (
    AccountFactory,
    ContactFactory,
    EmailAttachmentFactory,
    EmailMessageFactory,
    OpportunityFactory,
)

pytestmark = pytest.mark.django_db

THREAD = "thread@example.com"
# Session + user (2), rights (1), then the page; a full page also counts, for the top bar, the support
# requests awaiting the user's answer and the user's pending email (1, counted together).
PAGES: dict[str, tuple[str, int]] = {
    # + the page of messages with owners (1), the owner choices (1); pending ones are filed nowhere
    "list_pending": ("/emails/", 6),
    # + the page (1), their activities (1) with links (1) and attendees (1), the records they are filed to
    # (1 per type: contacts, accounts, deals), the owner choices (1)
    "list_all": ("/emails/?view=all", 12),
    # + the account filter: the account (1 to check it, 1 for the picker)
    "list_account": ("/emails/?view=all&account={account}", 14),
    # + the message with owner and activity (1), the activity's links (1) and attendees (1), the records
    # filed to (1 per type: 2), attachments (1), the thread (1), suggestions (contacts 1, accounts 1),
    # history (1) and the activity it names (1)
    "detail": ("/emails/{email}/", 15),
    # htmx fragments: no top bar. + the pending messages (1), their count (1), suggestions (2)
    "panel": ("/emails/pending/", 7),
    # + contacts, accounts, opportunities, support items whose names start so (1 each)
    "lookup": ("/emails/lookup/?lookup=Pat", 7),
    # + the message (1)
    "raw": ("/emails/{email}/raw/", 4),
    # + the message (1), the attachment (1)
    "attachment": ("/emails/{email}/attachments/{attachment}/", 5),
}
# Token (1), rights (1), then the rows.
API: dict[str, tuple[str, int]] = {
    # + the page of messages with owners (1), attachments (1), activities (1) with links (1) and
    # attendees (1), the filed records (1 per type: 3)
    "emails": ("emails", 10),
    # + the page (1), attachments (1): pending messages are filed nowhere
    "emails_pending": ("emails?status=pending", 4),
    # + the message with owner (1), attachments (1), its activity (1), links (1), attendees (1), the filed
    # records (contact, account: 2)
    "email": ("emails/{email}", 9),
}


def populate(personas, account, n: int) -> None:
    """n messages of each sort the reads meet: pending ones of the owner's from known contacts (suggestions),
    filed ones with attachments (to a contact and its account, and to a deal), a teammate's shared one in
    the owner's thread, a hidden one of the outsider's."""
    owner = personas.owner
    base = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    for i in range(n):
        contact = ContactFactory(owner=owner, account=account, first_name="Pat", email=f"pat{i}-{n}@example.com")
        at = base + dt.timedelta(hours=i, days=n)
        EmailMessageFactory(owner=owner, from_address=contact.email, received_at=at, pending_reason="several",
                            cc=[f"other{i}-{n}@example.com"], thread_key=THREAD)
        filed = EmailMessageFactory(owner=owner, received_at=at, thread_key=THREAD, visibility="everyone")
        EmailAttachmentFactory(email=filed)
        EmailAttachmentFactory(email=filed)
        email_file(actor=owner, email=filed, records=[contact, OpportunityFactory(owner=owner, account=account)])
        EmailMessageFactory(owner=personas.teammate, received_at=at, thread_key=THREAD, visibility="team")
        EmailMessageFactory(owner=personas.outsider, received_at=at, thread_key=THREAD, visibility="private")


def count(call, *, status: int = 200) -> int:
    call()  # warm: content types, the token's last-used stamp
    with CaptureQueriesContext(connection) as queries:
        result = call()
    assert result.status_code == status, result.content[:500]
    if getattr(result, "streaming", False):
        b"".join(result.streaming_content)
    return len(queries)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def world(personas):
    account = AccountFactory(owner=personas.owner, name="Filed account")
    contact = ContactFactory(owner=personas.owner, account=account, email="anna@example.com")
    email = EmailMessageFactory(owner=personas.owner, from_address="anna@example.com", thread_key=THREAD,
                                cc=["pat0-3@example.com"])
    email_file(actor=personas.owner, email=email, records=[contact])
    attachment = EmailAttachmentFactory(email=email)
    return account, EmailMessage.objects.get(pk=email.pk), attachment


def _fill(template: str, account, email, attachment) -> str:
    return template.format(account=account.public_id, email=email.public_id, attachment=attachment.public_id)


def test_page_query_counts_are_pinned_and_flat(personas, world):
    account, email, attachment = world
    client = client_for(personas.owner)
    urls = {name: _fill(template, account, email, attachment) for name, (template, _n) in PAGES.items()}
    populate(personas, account, 3)
    small = {name: count(lambda url=url: client.get(url)) for name, url in urls.items()}
    populate(personas, account, 27)
    large = {name: count(lambda url=url: client.get(url)) for name, url in urls.items()}
    assert large == small
    assert small == {name: expected for name, (_template, expected) in PAGES.items()}


def test_api_query_counts_are_pinned_and_flat(personas, world, api_for):
    account, email, attachment = world
    client = api_for(personas.owner)
    paths = {name: _fill(template, account, email, attachment) for name, (template, _n) in API.items()}
    populate(personas, account, 3)
    small = {name: count(lambda path=path: client.get(path)) for name, path in paths.items()}
    populate(personas, account, 27)
    large = {name: count(lambda path=path: client.get(path)) for name, path in paths.items()}
    assert large == small
    assert small == {name: expected for name, (_template, expected) in API.items()}
