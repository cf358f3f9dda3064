"""The request cycle through real email: a request goes out by SMTP (a real server on 127.0.0.1), its
recipient opens the accept, decline or reassign link from the message, and the item follows.

A GET of a link never changes anything (mail scanners open links); the POST answers. A link works once,
for its recipient only, until it expires; a forged one is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from rapport.activities.models import ActivityStatus
from rapport.mail.models import OutboxMessage, OutboxStatus
from rapport.mail.services import deliver_due
from rapport.support import services
from rapport.support.models import PrivateCopy, RequestState, SupportItem, SupportRequest, SupportStatus
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.mail.smtp import SmtpServer, smtp_listener

pytestmark = pytest.mark.django_db

BASE_URL = "https://crm.example.test"


@dataclass
class Cycle:
    smtp: SmtpServer
    owner: Any  # support1, who opened the item and asked support2
    recipient: Any  # support2
    third: Any  # support3, a colleague to pass it on to
    item: SupportItem
    request: SupportRequest

    def links(self, address: str) -> dict[str, str]:
        """The answer links in the latest mail to `address`, as paths."""
        return links_in(self.smtp.to(address)[-1].text)

    def state(self) -> tuple:
        """Everything an answer could change."""
        item = SupportItem.objects.get(pk=self.item.pk)
        return (item.status, item.assignee_id, item.returned_at, item.version,
                sorted(SupportRequest.objects.filter(item=item).values_list("pk", "state")),
                sorted(PrivateCopy.objects.filter(item=item).values_list("holder_id", "task__status")),
                OutboxMessage.objects.count())


def links_in(text: str) -> dict[str, str]:
    """{action: path} of the answer links in an email's text; each an absolute URL under RAPPORT_BASE_URL."""
    found = re.findall(rf"{re.escape(BASE_URL)}(/support/answer/[^\s/]+/(accept|decline|reassign)/)", text)
    return {action: path for path, action in found}


@pytest.fixture
def smtp(settings) -> Iterator[SmtpServer]:
    with smtp_listener(settings) as server:
        yield server


@pytest.fixture
def cycle(smtp, settings) -> Cycle:
    settings.RAPPORT_BASE_URL = BASE_URL
    owner = UserFactory(username="support1", first_name="Sune", last_name="Sørensen", role_slugs="support",
                        email="sune@example.com")
    recipient = UserFactory(username="support2", first_name="Şule", last_name="Yılmaz", role_slugs="support",
                            email="sule@example.com")
    third = UserFactory(username="support3", first_name="Kari", last_name="Nordmann", role_slugs="support",
                        email="kari@example.com")
    item = services.support_item_create(actor=owner, data={
        "subject": "The invoice printer jams", "description": "Since Monday, on every second page."})
    request = services.support_assign(actor=owner, item=item, recipient=recipient, message="Can you take this?")

    assert deliver_due() == 1
    return Cycle(smtp=smtp, owner=owner, recipient=recipient, third=third,
                 item=SupportItem.objects.get(pk=item.pk), request=request)


def test_the_request_email_carries_the_item_and_three_absolute_links(cycle):
    [mail] = cycle.smtp.to("sule@example.com")
    sent = OutboxMessage.objects.get(kind="support_request")

    assert mail.message["Message-ID"] == sent.message_id
    assert sent.status == OutboxStatus.SENT
    assert cycle.item.reference in mail.message["Subject"]
    assert "The invoice printer jams" in mail.message["Subject"]
    assert "Can you take this?" in mail.text
    assert "Sune Sørensen" in mail.text
    assert set(cycle.links("sule@example.com")) == {"accept", "decline", "reassign"}
    assert f"{BASE_URL}/support/{cycle.item.public_id}/" in mail.text
    assert cycle.item.status == SupportStatus.ASSIGNED


def test_accepting_from_the_email_puts_the_item_in_progress_on_the_recipients_list(cycle):
    path = cycle.links("sule@example.com")["accept"]
    browser = client_for(cycle.recipient)
    before = cycle.state()

    shown = browser.get(path)

    assert shown.status_code == 200
    assert "The invoice printer jams" in shown.content.decode()
    assert cycle.state() == before  # opening the link changes nothing

    answered = browser.post(path)

    assert answered.status_code == 302
    assert answered["Location"] == f"/support/{cycle.item.public_id}/"
    item = SupportItem.objects.get(pk=cycle.item.pk)
    assert (item.status, item.assignee) == (SupportStatus.IN_PROGRESS, cycle.recipient)
    copy = PrivateCopy.objects.select_related("task").get(item=item, holder=cycle.recipient)
    assert copy.task.owner == cycle.recipient
    assert copy.task.status == ActivityStatus.OPEN
    request = SupportRequest.objects.get(pk=cycle.request.pk)
    assert (request.state, request.answered_by) == (RequestState.ACCEPTED, cycle.recipient)

    # The same link a second time: says what happened, changes nothing, sends nothing.
    after = cycle.state()
    again = browser.post(path)
    assert again.status_code == 409
    assert "already answered" in again.content.decode()
    assert browser.get(path).status_code == 409
    assert cycle.state() == after
    assert deliver_due() == 0


def test_declining_from_the_email_returns_the_item_and_tells_the_owner_why(cycle):
    path = cycle.links("sule@example.com")["decline"]
    browser = client_for(cycle.recipient)
    assert browser.get(path).status_code == 200
    before = cycle.state()

    no_reason = browser.post(path, {"reason": "  "})

    assert no_reason.status_code == 400
    assert "Say why you decline" in no_reason.content.decode()
    assert cycle.state() == before

    answered = browser.post(path, {"reason": "I am away until the 20th."})

    assert answered.status_code == 302
    item = SupportItem.objects.get(pk=cycle.item.pk)
    assert (item.status, item.assignee, item.owner) == (SupportStatus.NEW, None, cycle.owner)
    assert item.returned_at is not None
    request = SupportRequest.objects.get(pk=cycle.request.pk)
    assert (request.state, request.reason) == (RequestState.DECLINED, "I am away until the 20th.")

    assert deliver_due() == 1
    [mail] = cycle.smtp.to("sune@example.com")
    assert "Declined by Şule Yılmaz" in mail.message["Subject"]
    assert cycle.item.reference in mail.message["Subject"]
    assert "I am away until the 20th." in mail.text
    assert f"{BASE_URL}/support/{cycle.item.public_id}/" in mail.text

    after = cycle.state()
    assert browser.post(path, {"reason": "Twice"}).status_code == 409
    assert cycle.state() == after


def test_reassigning_from_the_email_asks_the_next_colleague_who_accepts_from_their_email(cycle):
    path = cycle.links("sule@example.com")["reassign"]
    browser = client_for(cycle.recipient)
    shown = browser.get(path)
    assert shown.status_code == 200
    assert cycle.third.public_id in shown.content.decode()  # offered as a colleague

    answered = browser.post(path, {"assignee": cycle.third.public_id, "message": "Kari knows this printer."})

    assert answered.status_code == 302
    first = SupportRequest.objects.get(pk=cycle.request.pk)
    assert first.state == RequestState.PASSED_ON
    second = SupportRequest.objects.get(item=cycle.item, state=RequestState.PENDING)
    assert (second.recipient, second.requested_by, second.previous) == (cycle.third, cycle.recipient, first)
    item = SupportItem.objects.get(pk=cycle.item.pk)
    assert (item.status, item.assignee) == (SupportStatus.ASSIGNED, cycle.third)

    assert deliver_due() == 1
    [mail] = cycle.smtp.to("kari@example.com")
    assert "Kari knows this printer." in mail.text
    assert "Şule Yılmaz" in mail.text

    # The first link is spent: it says the item went on, and changes nothing.
    before = cycle.state()
    stale = browser.post(cycle.links("sule@example.com")["accept"])
    assert stale.status_code == 409
    assert cycle.state() == before

    accepted = client_for(cycle.third).post(cycle.links("kari@example.com")["accept"])

    assert accepted.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.assignee) == (SupportStatus.IN_PROGRESS, cycle.third)
    assert PrivateCopy.objects.filter(item=item, holder=cycle.third, task__status=ActivityStatus.OPEN).exists()
    assert not PrivateCopy.objects.filter(item=item, holder=cycle.recipient).exists()
    assert list(SupportRequest.objects.filter(item=item).order_by("created_at", "id")
                .values_list("recipient__username", "state")) == [
        ("support2", RequestState.PASSED_ON), ("support3", RequestState.ACCEPTED)]


@pytest.mark.parametrize("action", ["accept", "decline", "reassign"])
def test_a_link_opened_by_another_signed_in_user_is_refused(cycle, action):
    path = cycle.links("sule@example.com")[action]
    intruder = client_for(cycle.third)
    before = cycle.state()

    shown = intruder.get(path)
    posted = intruder.post(path, {"reason": "Not mine", "assignee": cycle.third.public_id})

    assert (shown.status_code, posted.status_code) == (403, 403)
    assert "This request was sent to" in posted.content.decode()
    assert cycle.state() == before


def test_a_forged_link_is_refused(cycle):
    path = cycle.links("sule@example.com")["accept"]
    token = path.split("/")[3]
    forged = path.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    browser = client_for(cycle.recipient)
    before = cycle.state()

    assert browser.get(forged).status_code == 400
    refused = browser.post(forged)

    assert refused.status_code == 400
    assert "This link is not valid" in refused.content.decode()
    assert browser.post("/support/answer/not-a-token/accept/").status_code == 400
    assert cycle.state() == before


def test_an_expired_link_is_refused_saying_it_expired(cycle):
    SupportRequest.objects.filter(pk=cycle.request.pk).update(
        links_expire_at=timezone.now() - dt.timedelta(minutes=1))
    path = cycle.links("sule@example.com")["accept"]
    browser = client_for(cycle.recipient)
    before = cycle.state()

    assert browser.get(path).status_code == 400
    refused = browser.post(path)

    assert refused.status_code == 400
    assert "This link has expired" in refused.content.decode()
    assert cycle.state() == before


def test_an_anonymous_visitor_signs_in_first_and_comes_back_to_the_link(cycle, client):
    path = cycle.links("sule@example.com")["accept"]
    before = cycle.state()

    response = client.post(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert cycle.state() == before
