"""The templates API: CRUD with version and restore, lists and filters, unknown merge fields refused
naming field and line, preview for a contact, serial letters as a download."""

from __future__ import annotations

import io

import pytest
from docx import Document

from rapport.core.models import HistoryEntry, Visibility
from rapport.templating.models import Template
from tests.factories import AccountFactory, ContactFactory, TemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(personas, api_for):
    return api_for(personas.owner)


def stored() -> dict:
    return {"templates": list(Template.objects.order_by("pk").values()), "history": HistoryEntry.objects.count()}


def test_create_read_update_delete_restore(api, personas):
    created = api.post("templates", {"name": "Welcome", "subject": "Hi {{contact.first_name}}",
                                     "body": "Dear {{ contact.full_name }}"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert not body["id"].isdigit() and body["kind"] == "email" and body["version"] == 1
    assert body["owner"] == {"id": personas.owner.public_id, "name": personas.owner.display_name}
    assert body["created_at"].endswith(("Z", "+00:00"))
    url = f"templates/{body['id']}"
    assert api.get(url).json()["body"] == "Dear {{ contact.full_name }}"
    changed = api.patch(url, {"name": "Welcome!", "version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.patch(url, {"name": "Stale", "version": 1})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert api.delete(f"{url}?version=1").status_code == 409
    assert api.delete(f"{url}?version=2").status_code == 204
    assert api.get(url).status_code == 404
    restored = api.post(f"{url}/restore")
    assert restored.status_code == 200 and restored.json()["version"] == 4


@pytest.mark.parametrize(("payload", "field", "message"), [
    ({"body": "Hi\n\n{{7*7}}"}, "body", "Line 3: {{7*7}} is not a merge field; only names like "
                                        "{{ contact.first_name }} can be used."),
    ({"body": "{{ settings.SECRET_KEY }}"}, "body", "Line 1: unknown field {{ settings.SECRET_KEY }}."),
    ({"subject": "{{ contact.owner.password }}"}, "subject", "Line 1: unknown field {{ contact.owner.password }}."),
    ({"body": "{% if x %}"}, "body", "Line 1: {% if x %} is not a merge field; only names like "
                                                "{{ contact.first_name }} can be used."),
    ({"body": "{{ contact.first_name|upper }}"}, "body",
     "Line 1: {{ contact.first_name|upper }} is not a merge field; only names like {{ contact.first_name }} "
     "can be used."),
])
def test_unknown_fields_are_refused_naming_field_and_line(api, payload, field, message):
    before = stored()
    response = api.post("templates", {"name": "Bad", "subject": "Hi", "body": "Hi", **payload})
    assert response.status_code == 422, response.json()
    assert response.json()["errors"][field] == [message]
    assert field in response.json()["detail"]
    assert stored() == before


def test_bad_input_never_500(api):
    for payload in ({"name": "x"}, {"name": "", "body": "x", "subject": "s"}, {"name": "x", "body": "y", "kind": "fax"},
                    {"name": "x", "body": "y", "subject": "s", "colour": "red"},
                    {"name": "x", "body": "a\x00b", "subject": "s"}, {"name": "x", "body": None, "subject": "s"}):
        assert api.post("templates", payload).status_code in (400, 422), payload
    assert api.get("templates?kind=fax").status_code == 400
    assert api.get("templates?cursor=garbage").status_code == 400
    assert api.get("templates?colour=red").status_code == 400


def test_list_filters_and_visibility(api, personas):
    for index in range(3):
        TemplateFactory(name=f"Offer {index}", owner=personas.owner)
    TemplateFactory(name="Letter", kind="letter", owner=personas.teammate)
    TemplateFactory(name="Hidden", owner=personas.outsider, visibility=Visibility.PRIVATE)
    names = [item["name"] for item in api.get("templates").json()["items"]]
    assert names == ["Letter", "Offer 0", "Offer 1", "Offer 2"]
    assert [i["name"] for i in api.get("templates?kind=letter").json()["items"]] == ["Letter"]
    assert [i["name"] for i in api.get("templates?q=off&ordering=-name&limit=2").json()["items"]] == \
        ["Offer 2", "Offer 1"]
    page = api.get("templates?limit=2").json()
    assert page["next"] and len(api.get(f"templates?limit=2&cursor={page['next']}").json()["items"]) == 2
    assert [i["name"] for i in api.get("templates?owner=me").json()["items"]] == ["Offer 0", "Offer 1", "Offer 2"]


def test_preview_against_a_real_contact(api, personas):
    template = TemplateFactory(owner=personas.owner, subject="Hi {{ contact.first_name }}\n",
                               body="Dear {{ contact.full_name }} of {{ account.name }} {{ contact.title }}")
    zoe = ContactFactory(first_name="Zoë", last_name="Müller", title="{{ user.email }}", owner=personas.owner,
                         account=AccountFactory(name="Acme", owner=personas.owner))
    hidden = ContactFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    response = api.post(f"templates/{template.public_id}/preview", {"contact": zoe.public_id})
    assert response.status_code == 200
    assert response.json() == {"contact": {"id": zoe.public_id, "name": "Zoë Müller"}, "subject": "Hi Zoë",
                                "body": "Dear Zoë Müller of Acme {{ user.email }}"}
    refused = api.post(f"templates/{template.public_id}/preview", {"contact": hidden.public_id})
    assert refused.status_code == 422 and refused.json()["errors"] == {"contact": ["No such contact."]}
    default = api.post(f"templates/{template.public_id}/preview", {})
    assert default.status_code == 200 and default.json()["contact"]["id"] == zoe.public_id


def test_letters_download(api, personas):
    template = TemplateFactory(owner=personas.owner, kind="letter", body="Dear {{ contact.first_name }}")
    people = [ContactFactory(first_name=name, owner=personas.owner) for name in ("Şule", "Zoë")]
    url = f"templates/{template.public_id}/letters"
    response = api.post(url, {"contacts": [c.public_id for c in people], "format": "docx"})
    assert response.status_code == 200 and response["Content-Disposition"].endswith('-letters.docx"')
    assert len(Document(io.BytesIO(response.content)).sections) == 2
    pdf = api.post(url, {"contacts": [people[0].public_id]})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert api.post(url, {"format": "pdf"}).status_code == 422
    assert api.post(url, {"contacts": ["nope"], "format": "pdf"}).json()["errors"] == {
        "contacts": ["No such contact: nope."]}
    assert api.post(url, {"distribution_list": "nope"}).json()["errors"] == {
        "distribution_list": ["No such distribution list."]}
    assert api.post(url, {"contacts": [people[0].public_id], "format": "odt"}).status_code == 422
    email = TemplateFactory(owner=personas.owner)
    refused = api.post(f"templates/{email.public_id}/letters", {"contacts": [people[0].public_id]})
    assert refused.status_code == 422 and "template" in refused.json()["errors"]


def test_rights(api_for, personas):
    template = TemplateFactory(owner=personas.owner)
    assert api_for(personas.viewer).post("templates", {"name": "x", "subject": "s", "body": "b"}).status_code == 403
    teammate = api_for(personas.teammate)
    assert teammate.patch(f"templates/{template.public_id}", {"name": "x", "version": 1}).status_code == 403
    private = TemplateFactory(owner=personas.owner, visibility=Visibility.PRIVATE)
    assert teammate.get(f"templates/{private.public_id}").status_code == 404
    assert teammate.post(f"templates/{private.public_id}/preview", {}).status_code == 404


def test_preview_marks_where_a_campaign_puts_the_unsubscribe_link(api, personas):
    template = TemplateFactory(owner=personas.owner, body="Bye.\n{{ unsubscribe_url }}")
    response = api.post(f"templates/{template.public_id}/preview", {})
    assert response.status_code == 200 and response.json()["body"] == "Bye.\n[unsubscribe link]"
