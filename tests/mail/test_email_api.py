"""The emails API: the list and its filters (status=pending is the pending list), one message, the
actions (file, discard, restore, create-contact), downloads, bad input and visibility; and
GET /api/v1/me's logging address."""

from __future__ import annotations

import datetime as dt

import pytest

from rapport.activities.models import Activity
from rapport.core.models import HistoryEntry
from rapport.directory.models import Contact
from rapport.mail.models import EmailMessage, EmailStatus
from rapport.mail.selectors import logging_address
from rapport.mail.services import email_file
from tests.factories import (
    AccountFactory,
    ContactFactory,
    EmailAttachmentFactory,
    EmailMessageFactory,
    OpportunityFactory,
    SupportItemFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def api(personas, api_for):
    return api_for(personas.owner)


def stored() -> dict:
    """What a refused write must leave as it was."""
    return {"emails": list(EmailMessage.objects.order_by("pk").values()),
            "activities": Activity.objects.count(), "contacts": Contact.objects.count(),
            "history": HistoryEntry.objects.count()}


def fresh(email: EmailMessage) -> EmailMessage:
    return EmailMessage.objects.get(pk=email.pk)


def test_the_representation(personas, api):
    owner = personas.owner
    contact = ContactFactory(owner=owner, first_name="Anna", last_name="Berg")
    email = EmailMessageFactory(owner=owner, subject="Quote", from_name="Anna Berg", from_address="anna@x.com",
                                to=["me@y.com"], cc=["c@x.com"], text_body="Text", html_body="<p>Text</p>",
                                sent_at=dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC), message_id="q@x",
                                thread_key="q@x")
    email_file(actor=owner, email=email, records=[contact])
    attachment = EmailAttachmentFactory(email=email, filename="a.pdf", size=12)
    body = api.get(f"emails/{email.public_id}").json()
    assert body["id"] == email.public_id and body["subject"] == "Quote" and body["thread"] == "q@x"
    assert (body["from_name"], body["from_address"], body["to"], body["cc"]) == ("Anna Berg", "anna@x.com",
                                                                                ["me@y.com"], ["c@x.com"])
    assert body["sent_at"] == "2026-05-01T09:00:00Z"
    assert body["status"] == "filed" and body["pending_reason"] == ""
    assert body["filed_to"] == [{"type": "contact", "id": contact.public_id, "name": "Anna Berg"}]
    assert body["text_body"] == "Text" and body["html_body"] == "<p>Text</p>"
    assert body["attachments"] == [{"id": attachment.public_id, "filename": "a.pdf", "size": 12,
                                    "declared_type": "text/plain", "detected_type": "text/plain",
                                    "url": f"/api/v1/emails/{email.public_id}/attachments/{attachment.public_id}"}]
    assert body["raw_url"] == f"/api/v1/emails/{email.public_id}/raw"
    assert body["owner"] == {"id": owner.public_id, "name": owner.display_name}
    assert body["version"] == fresh(email).version


def test_the_list_and_its_filters(personas, api):
    owner = personas.owner
    account = AccountFactory(owner=owner)
    now = dt.datetime(2026, 5, 10, 12, 0, tzinfo=dt.UTC)
    pending = EmailMessageFactory(owner=owner, received_at=now, from_address="anna@fjord.no", subject="Quote")
    filed = EmailMessageFactory(owner=owner, received_at=now - dt.timedelta(days=2))
    email_file(actor=owner, email=filed, records=[account])
    discarded = EmailMessageFactory(owner=owner, status=EmailStatus.DISCARDED, received_at=now)
    theirs = EmailMessageFactory(owner=personas.teammate, visibility="everyone", received_at=now - dt.timedelta(1))
    EmailMessageFactory(owner=personas.outsider, visibility="private")

    def listed(**params) -> list[str]:
        response = api.get("emails", **params)
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["items"]]

    assert listed() == [pending.public_id, theirs.public_id, filed.public_id]  # newest first, no discarded
    assert listed(status="pending") == [pending.public_id, theirs.public_id]
    assert listed(view="pending") == [pending.public_id]
    assert listed(status="pending", owner="me") == [pending.public_id]
    assert listed(status="discarded") == [discarded.public_id]
    assert listed(account=account.public_id) == [filed.public_id]
    assert listed(since="2026-05-10T00:00:00Z") == [pending.public_id]
    assert listed(since="2026-05-09", until="2026-05-09") == [theirs.public_id]
    assert listed(**{"from": "fjord"}) == [pending.public_id]
    assert listed(q="quote") == [pending.public_id]
    assert listed(ordering="received_at", status="pending") == [theirs.public_id, pending.public_id]
    first = api.get("emails", limit=2).json()
    assert len(first["items"]) == 2 and first["next"]
    rest = api.get("emails", limit=2, cursor=first["next"]).json()
    assert [item["id"] for item in rest["items"]] == [filed.public_id] and rest["next"] is None


@pytest.mark.parametrize("params", [{"status": "lost"}, {"since": "last week"}, {"colour": "red"},
                                    {"ordering": "subject"}, {"cursor": "forged"}, {"limit": "x"},
                                    {"owner": "nobody"}, {"account": "nothing"}])
def test_bad_query_parameters_answer_400_naming_them(api, params):
    response = api.get("emails", **params)
    assert response.status_code == 400
    assert set(response.json()["errors"]) & ({*params} | {"body"})


def test_file_then_file_again(personas, api):
    owner = personas.owner
    contact = ContactFactory(owner=owner, account=AccountFactory(owner=owner, name="Fjord"))
    deal = OpportunityFactory(owner=owner, name="Big deal")
    case = SupportItemFactory(owner=owner)
    email = EmailMessageFactory(owner=owner)
    response = api.post(f"emails/{email.public_id}/file", {"records": [contact.ref], "version": email.version})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "filed"
    assert {(r["type"], r["name"]) for r in body["filed_to"]} == {("contact", str(contact)), ("account", "Fjord")}
    response = api.post(f"emails/{email.public_id}/file", {"records": [deal.ref, case.ref]})
    assert {r["type"] for r in response.json()["filed_to"]} == {"opportunity", "support_item"}


@pytest.mark.parametrize(("body", "status", "field"), [
    ({}, 422, "records"),
    ({"records": []}, 422, "records"),
    ({"records": ["contact"]}, 422, "records"),
    ({"records": ["planet:abc"]}, 422, "records"),
    ({"records": ["contact:zzzzzzzzzzzzzzzz"]}, 422, "records"),
    ({"records": ["x"] * 21}, 422, "records"),
    ({"records": ["a\x00b"]}, 422, "records"),
    ({"records": [], "colour": "red"}, 422, "colour"),
])
def test_bad_file_bodies_are_refused_naming_the_field(personas, api, body, status, field):
    email = EmailMessageFactory(owner=personas.owner)
    before = stored()
    response = api.post(f"emails/{email.public_id}/file", body)
    assert response.status_code == status
    assert field in response.json()["errors"]
    assert stored() == before


def test_filing_to_a_record_one_may_not_see_is_no_such_record(personas, api):
    hidden = ContactFactory(owner=personas.outsider, visibility="private")
    email = EmailMessageFactory(owner=personas.owner)
    response = api.post(f"emails/{email.public_id}/file", {"records": [hidden.ref]})
    assert response.status_code == 422 and response.json()["errors"]["records"] == ["No such contact."]


def test_a_stale_version_answers_409(personas, api):
    email = EmailMessageFactory(owner=personas.owner)
    account = AccountFactory(owner=personas.owner)
    before = stored()
    for action, body in (("file", {"records": [account.ref]}), ("discard", {}), ("create-contact", {})):
        response = api.post(f"emails/{email.public_id}/{action}", {**body, "version": email.version + 1})
        assert response.status_code == 409, action
        assert response.json()["errors"]["version"]
    assert stored() == before


def test_discard_and_restore(personas, api):
    email = EmailMessageFactory(owner=personas.owner)
    response = api.post(f"emails/{email.public_id}/discard", {"version": email.version})
    assert response.status_code == 200 and response.json()["status"] == "discarded"
    assert api.post(f"emails/{email.public_id}/discard", {}).status_code == 409
    response = api.post(f"emails/{email.public_id}/restore", {})
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert api.post(f"emails/{email.public_id}/restore", {}).status_code == 409


def test_create_contact(personas, api):
    owner = personas.owner
    account = AccountFactory(owner=owner)
    email = EmailMessageFactory(owner=owner, from_name="Berg, Anna", from_address="anna@fjord.no")
    response = api.post(f"emails/{email.public_id}/create-contact", {"account": account.public_id})
    assert response.status_code == 200, response.json()
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.email, contact.account) == (
        "Anna", "Berg", "anna@fjord.no", account)
    assert {"type": "contact", "id": contact.public_id, "name": "Anna Berg"} in response.json()["filed_to"]
    # The same sender again: the duplicate is named; confirmed, a second contact is made.
    again = EmailMessageFactory(owner=owner, from_address="anna@fjord.no")
    response = api.post(f"emails/{again.public_id}/create-contact", {})
    assert response.status_code == 409 and response.json()["duplicates"][0]["id"] == contact.public_id
    response = api.post(f"emails/{again.public_id}/create-contact", {"confirm_duplicate": True, "last_name": "Other"})
    assert response.status_code == 200 and Contact.objects.count() == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not an address"}, "email"), ({"account": "zzzzzzzzzzzzzzzz"}, "account"),
    ({"last_name": ""}, "last_name"), ({"title": "CEO"}, "title"), ({"first_name": "x" * 101}, "first_name"),
])
def test_bad_create_contact_bodies(personas, api, body, field):
    email = EmailMessageFactory(owner=personas.owner)
    before = stored()
    response = api.post(f"emails/{email.public_id}/create-contact", body)
    assert response.status_code == 422 and field in response.json()["errors"]
    assert stored() == before


def test_visibility_and_rights(personas, api_for):
    private = EmailMessageFactory(owner=personas.owner, visibility="private")
    shared = EmailMessageFactory(owner=personas.owner, visibility="everyone")
    outsider, teammate = api_for(personas.outsider), api_for(personas.teammate)
    missing = outsider.get("emails/zzzzzzzzzzzzzzzz")
    for path in (f"emails/{private.public_id}", f"emails/{private.public_id}/raw"):
        response = outsider.get(path)
        assert (response.status_code, response.json()) == (404, missing.json())
    assert outsider.post(f"emails/{private.public_id}/discard", {}).status_code == 404
    assert teammate.get(f"emails/{shared.public_id}").status_code == 200
    assert teammate.post(f"emails/{shared.public_id}/discard", {}).status_code == 403
    assert fresh(shared).status == EmailStatus.PENDING
    manager = api_for(personas.manager)
    assert manager.post(f"emails/{shared.public_id}/discard", {}).status_code == 200


def test_downloads(personas, api):
    email = EmailMessageFactory(owner=personas.owner)
    attachment = EmailAttachmentFactory(email=email, filename="evil.html", declared_type="text/html",
                                        detected_type="text/html")
    raw = api.get(f"emails/{email.public_id}/raw")
    assert raw.status_code == 200 and b"".join(raw.streaming_content).startswith(b"From: Anna Berg")
    response = api.get(f"emails/{email.public_id}/attachments/{attachment.public_id}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="evil.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert api.get(f"emails/{email.public_id}/attachments/zzzzzzzzzzzzzzzz").status_code == 404


def test_me_has_my_logging_address(personas, api, settings):
    settings.RAPPORT_MAIL_DOMAIN = "crm.example.org"
    body = api.get("me").json()
    assert body["logging_address"] == logging_address(personas.owner)
    assert body["logging_address"].endswith("@crm.example.org")


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01", "since=9999-12-31T23:59:59+00:00"])
def test_dates_out_of_range_are_a_400_naming_the_filter(personas, query):
    from tests.conftest import client_for

    user = personas.owner
    user.time_zone = "Pacific/Auckland"
    user.save(update_fields=["time_zone"])
    client = client_for(user)
    response = client.get(f"/api/v1/emails?{query}")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {query.split("=")[0]}
    assert client.get(f"/emails/?view=all&{query}").status_code == 400
