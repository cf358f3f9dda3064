"""The template pages: list (search, kind, paging), form with the merge-field refusals shown under
their field, the page with its preview for a real contact, delete with undo, and serial letters."""

from __future__ import annotations

import io

import pytest
from docx import Document

from rapport.core.models import HistoryEntry, Visibility
from rapport.templating.models import Template
from tests.conftest import client_for
from tests.factories import ContactFactory, TemplateFactory

pytestmark = pytest.mark.django_db


def form_data(**changes) -> dict:
    data = {"name": "Welcome", "kind": "email", "description": "", "subject": "Hi {{ contact.first_name }}",
            "body": "Dear {{ contact.full_name }},\n{{ user.signature }}", "owner": "", "visibility": "everyone"}
    data.update(changes)
    return data


def test_list_search_kind_and_paging(personas):
    for index in range(55):
        TemplateFactory(name=f"Offer {index:02d}", owner=personas.owner)
    TemplateFactory(name="Zeta letter", kind="letter", owner=personas.owner)
    TemplateFactory(name="Hidden", owner=personas.outsider, visibility=Visibility.PRIVATE)
    client = client_for(personas.owner)
    page = client.get("/templates/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Offer 00" in html and "Offer 49" in html and "Offer 50" not in html and "Hidden" not in html
    assert 'rel="next"' in html and 'class="marketing-tabs"' in html and 'aria-current="page"' in html
    assert "Zeta letter" in client.get("/templates/?kind=letter").content.decode()
    assert "Offer 00" not in client.get("/templates/?kind=letter").content.decode()
    assert "Offer 12" in client.get("/templates/?q=offer%201").content.decode()
    bad = client.get("/templates/?kind=fax")
    assert bad.status_code == 400 and "kind: Use one of: email, letter." in bad.content.decode()
    assert client.get("/templates/?colour=red").status_code == 400


def test_create_shows_unknown_fields_with_their_line(personas):
    client = client_for(personas.owner)
    form = client.get("/templates/new/?kind=letter")
    assert form.status_code == 200 and "{{ contact.first_name }}" in form.content.decode()  # the side panel
    response = client.post("/templates/new/", form_data(
        owner=personas.owner.public_id, body="Hello\n{{ contact.owner.password }}\n{{7*7}}",
        subject="{{ settings.SECRET_KEY }}"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Line 2: unknown field {{ contact.owner.password }}." in html
    assert "Line 3: {{7*7}} is not a merge field" in html
    assert "Line 1: unknown field {{ settings.SECRET_KEY }}." in html
    assert not Template.objects.exists()
    response = client.post("/templates/new/", form_data(owner=personas.owner.public_id))
    template = Template.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/templates/{template.public_id}/"
    assert template.body == "Dear {{ contact.full_name }},\n{{ user.signature }}"


def test_edit_with_a_stale_version_is_a_conflict(personas):
    template = TemplateFactory(owner=personas.owner)
    client = client_for(personas.owner)
    data = form_data(owner=personas.owner.public_id, version="1")
    assert client.post(f"/templates/{template.public_id}/edit/", data).status_code == 302
    stale = client.post(f"/templates/{template.public_id}/edit/", {**data, "name": "Again"})
    assert stale.status_code == 409 and "changed by someone else" in stale.content.decode()
    assert Template.objects.get().name == "Welcome"


def test_detail_previews_for_the_first_visible_contact_or_the_chosen_one(personas):
    personas.owner.signature = ""
    template = TemplateFactory(owner=personas.owner, subject="Hi {{ contact.first_name }}",
                               body="Dear {{ contact.full_name }} <b>{{ contact.title }}</b>")
    ContactFactory(first_name="Anna", last_name="Adams", title="<script>x</script>", owner=personas.owner)
    zoe = ContactFactory(first_name="Zoë", last_name="Müller", owner=personas.owner)
    hidden = ContactFactory(first_name="Aaron", last_name="Aaa", owner=personas.outsider,
                            visibility=Visibility.PRIVATE)
    client = client_for(personas.owner)
    html = client.get(f"/templates/{template.public_id}/").content.decode()
    assert "Hi Anna" in html and "Dear Anna Adams &lt;b&gt;&lt;script&gt;x&lt;/script&gt;&lt;/b&gt;" in html
    assert "Aaron" not in html
    html = client.get(f"/templates/{template.public_id}/?contact={zoe.public_id}").content.decode()
    assert "Hi Zoë" in html and "Dear Zoë Müller" in html
    refused = client.get(f"/templates/{template.public_id}/?contact={hidden.public_id}")
    assert refused.status_code == 400 and "No such contact." in refused.content.decode()
    assert "Aaron" not in refused.content.decode()
    part = client.get(f"/templates/{template.public_id}/?contact={zoe.public_id}",
                      headers={"HX-Request": "true", "HX-Target": "preview"})
    assert part.status_code == 200 and "Dear Zoë Müller" in part.content.decode()
    assert "<html" not in part.content.decode()


def test_delete_offers_undo(personas):
    template = TemplateFactory(owner=personas.owner)
    client = client_for(personas.owner)
    response = client.post(f"/templates/{template.public_id}/delete/", {"version": "1"})
    assert response.status_code == 302 and response["Location"] == "/templates/"
    assert f"/templates/{template.public_id}/restore/" in client.get("/templates/").content.decode()
    assert client.get(f"/templates/{template.public_id}/").status_code == 404
    assert client.post(f"/templates/{template.public_id}/restore/").status_code == 302
    assert client.get(f"/templates/{template.public_id}/").status_code == 200
    assert HistoryEntry.objects.filter(object_id=template.pk).count() == 2


def test_serial_letters_with_picked_contacts(personas):
    template = TemplateFactory(owner=personas.owner, kind="letter", subject="", body="Dear {{ contact.first_name }}")
    sule = ContactFactory(first_name="Şule", last_name="Yılmaz", owner=personas.owner)
    zoe = ContactFactory(first_name="Zoë", last_name="Müller", owner=personas.owner)
    client = client_for(personas.owner)
    url = f"/templates/{template.public_id}/letters/"
    assert client.get(url).status_code == 200
    added = client.post(url, {"action": "add", "source": "list", "add_contact": sule.public_id, "format": "docx"})
    assert added.status_code == 200 and f'value="{sule.public_id}"' in added.content.decode()
    added = client.post(url, {"action": "add", "source": "contacts", "contacts": [sule.public_id],
                              "add_contact": zoe.public_id, "format": "docx"})
    html = added.content.decode()
    assert f'value="{sule.public_id}"' in html and f'value="{zoe.public_id}"' in html
    empty = client.post(url, {"action": "make", "source": "contacts", "format": "docx"})
    assert empty.status_code == 400 and "Add at least one contact." in empty.content.decode()
    response = client.post(url, {"action": "make", "source": "contacts", "contacts": [sule.public_id, zoe.public_id],
                                 "format": "docx"})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    document = Document(io.BytesIO(response.content))
    assert len(document.sections) == 2
    assert {"Dear Şule", "Dear Zoë"} <= {paragraph.text for paragraph in document.paragraphs}
    pdf = client.post(url, {"action": "make", "source": "contacts", "contacts": [sule.public_id], "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")


def test_serial_letters_from_a_distribution_list(personas):
    from rapport.campaigns.models import DistributionList, DistributionListMember

    template = TemplateFactory(owner=personas.owner, kind="letter", subject="", body="Dear {{ contact.first_name }}")
    members = [ContactFactory(first_name=f"Member{i}", owner=personas.owner) for i in range(3)]
    ContactFactory(first_name="Outside", owner=personas.owner)
    hidden = ContactFactory(first_name="Hidden", owner=personas.outsider, visibility=Visibility.PRIVATE)
    mailing = DistributionList(name="Customers", owner=personas.owner)
    mailing.derive()
    mailing.save()
    for contact in [*members, hidden]:
        DistributionListMember.objects.create(distribution_list=mailing, contact=contact)
    client = client_for(personas.owner)
    url = f"/templates/{template.public_id}/letters/"
    assert "Customers" in client.get(url).content.decode()
    response = client.post(url, {"action": "make", "source": "list", "distribution_list": mailing.public_id,
                                 "format": "docx"})
    assert response.status_code == 200, response.content.decode()[:2000]
    texts = [paragraph.text for paragraph in Document(io.BytesIO(response.content)).paragraphs]
    assert [text for text in texts if text.startswith("Dear ")] == ["Dear Member0", "Dear Member1", "Dear Member2"]
    missing = client.post(url, {"action": "make", "source": "list", "distribution_list": "nope", "format": "pdf"})
    assert missing.status_code == 400 and "No such distribution list." in missing.content.decode()


def test_serial_letters_need_a_letter_template(personas):
    template = TemplateFactory(owner=personas.owner)
    client = client_for(personas.owner)
    page = client.get(f"/templates/{template.public_id}/letters/")
    assert "made from letter templates" in page.content.decode()
    assert "Serial letters" not in client.get(f"/templates/{template.public_id}/").content.decode()
