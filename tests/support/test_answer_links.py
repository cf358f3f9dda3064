"""The accept / decline / pass-on links of a request email, followed in a browser: a GET only shows the
item and the form (mail scanners open links), a POST answers; forged, expired, someone else's and used
links each say why they do not work."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from rapport.mail.models import OutboxMessage
from rapport.support import services
from rapport.support.models import PrivateCopy, RequestState, SupportRequest, SupportStatus
from tests.conftest import client_for
from tests.support import Desk, build_desk, fresh, open_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db) -> Desk:
    return build_desk()


@pytest.fixture
def request_(desk) -> SupportRequest:
    item = open_item(desk, description="Smoke everywhere.")
    return services.support_assign(actor=desk.owner, item=item, recipient=desk.asa, message="Please look")


def text(response) -> str:
    return html.unescape(response.content.decode())


def link(request: SupportRequest, action: str) -> str:
    """The path of the link in the email, as the recipient's browser opens it."""
    return urlsplit(services.link_url(request, action)).path


def state(request: SupportRequest) -> str:
    return SupportRequest.objects.get(pk=request.pk).state


def test_the_email_links_open_the_answer_pages(desk, request_):
    body = OutboxMessage.objects.get(kind="support_request").body
    paths = [urlsplit(url).path for url in re.findall(r"https?://\S+/support/answer/\S+/", body)]
    assert sorted(path.rstrip("/").rsplit("/", 1)[1] for path in paths) == ["accept", "decline", "reassign"]
    client = client_for(desk.asa)
    for path in paths:
        assert client.get(path).status_code == 200


def test_get_shows_the_item_and_changes_nothing(desk, request_):
    item = fresh(request_.item)
    client = client_for(desk.asa)
    for action, field in (("accept", 'type="submit"'), ("decline", 'name="reason"'), ("reassign", 'name="assignee"')):
        page = client.get(link(request_, action))
        assert page.status_code == 200
        assert field in page.content.decode()
        assert "Printer on fire" in text(page) and "Please look" in text(page) and "Acme" in text(page)
    assert state(request_) == RequestState.PENDING
    assert fresh(item).version == item.version


def test_accept_by_link(desk, request_):
    client = client_for(desk.asa)
    response = client.post(link(request_, "accept"))
    assert response.status_code == 302
    assert response["Location"] == reverse("support_detail", args=[request_.item.public_id])
    assert state(request_) == RequestState.ACCEPTED
    assert fresh(request_.item).status == SupportStatus.IN_PROGRESS
    assert PrivateCopy.objects.filter(item=request_.item, holder=desk.asa).exists()
    page = client.get(response["Location"])
    assert "You accepted" in text(page) and "My copy" in text(page)


def test_decline_by_link_needs_a_reason(desk, request_):
    client = client_for(desk.asa)
    response = client.post(link(request_, "decline"), {"reason": ""})
    assert response.status_code == 400
    assert "Say why you decline" in text(response)
    assert state(request_) == RequestState.PENDING
    response = client.post(link(request_, "decline"), {"reason": "Not my area"})
    assert response.status_code == 302
    req = SupportRequest.objects.get(pk=request_.pk)
    assert (req.state, req.reason) == (RequestState.DECLINED, "Not my area")
    assert OutboxMessage.objects.filter(kind="support_declined").count() == 1


def test_pass_on_by_link(desk, request_):
    response = client_for(desk.asa).post(link(request_, "reassign"),
                                         {"assignee": desk.bo.public_id, "message": "Over to you"})
    assert response.status_code == 302
    assert state(request_) == RequestState.PASSED_ON
    new = SupportRequest.objects.get(item=request_.item, state=RequestState.PENDING)
    assert (new.recipient, new.requested_by, new.previous_id, new.message) == (
        desk.bo, desk.asa, request_.pk, "Over to you")


def test_pass_on_needs_someone(desk, request_):
    response = client_for(desk.asa).post(link(request_, "reassign"), {"assignee": "", "message": ""})
    assert response.status_code == 400
    assert state(request_) == RequestState.PENDING


def test_a_forged_link_answers_400(desk, request_):
    token = services.link_token(request_)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    client = client_for(desk.asa)
    for method in ("get", "post"):
        response = getattr(client, method)(reverse("support_answer", args=[forged, "accept"]))
        assert response.status_code == 400
        assert "This link is not valid" in text(response)
    # Signed, but with another key's salt: just as forged.
    other = signing.dumps({"r": request_.public_id, "u": desk.asa.public_id}, salt="something else")
    assert client.post(reverse("support_answer", args=[other, "accept"])).status_code == 400
    assert state(request_) == RequestState.PENDING


def test_an_expired_link_answers_400(desk, request_):
    SupportRequest.objects.filter(pk=request_.pk).update(links_expire_at=timezone.now() - dt.timedelta(minutes=1))
    client = client_for(desk.asa)
    for method in ("get", "post"):
        response = getattr(client, method)(link(request_, "accept"))
        assert response.status_code == 400
        assert "This link has expired" in text(response)
    assert state(request_) == RequestState.PENDING


def test_someone_elses_link_answers_403(desk, request_):
    client = client_for(desk.bo)
    for method in ("get", "post"):
        response = getattr(client, method)(link(request_, "accept"))
        assert response.status_code == 403
        assert "you are signed in as" in text(response)
    assert state(request_) == RequestState.PENDING


def test_a_used_link_answers_409(desk, request_):
    client = client_for(desk.asa)
    assert client.post(link(request_, "accept")).status_code == 302
    for action in ("accept", "decline", "reassign"):
        response = client.post(link(request_, action), {"reason": "x", "assignee": desk.bo.public_id})
        assert response.status_code == 409
        assert "already answered" in text(response)
        assert client.get(link(request_, action)).status_code == 409


def test_a_withdrawn_request_says_who_has_it_now(desk, request_):
    services.support_assign(actor=desk.owner, item=fresh(request_.item), recipient=desk.bo)
    response = client_for(desk.asa).post(link(request_, "accept"))
    assert response.status_code == 409
    assert "reassigned" in text(response) and "Bo Berg" in text(response)
    assert fresh(request_.item).assignee == desk.bo


def test_an_unknown_action_is_404(desk, request_):
    token = services.link_token(request_)
    assert client_for(desk.asa).get(reverse("support_answer", args=[token, "delete"])).status_code == 404


def test_anonymous_visitors_sign_in_first(desk, request_):
    path = link(request_, "accept")
    for method in ("get", "post"):
        response = getattr(client_for(None), method)(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")
    assert state(request_) == RequestState.PENDING
