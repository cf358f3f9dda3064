"""Template writes: the merge-field check at save (nothing stored when refused), history and version,
rights, soft delete and restore."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.core.errors import StaleVersion
from rapport.core.models import HistoryEntry
from rapport.templating import services
from rapport.templating.models import Template
from tests.factories import TemplateFactory

pytestmark = pytest.mark.django_db

GOOD = {"name": "Welcome", "kind": "email", "subject": "Welcome, {{ contact.first_name }}",
        "body": "Dear {{ contact.full_name }},\n\n{{ user.signature }}\n{{ unsubscribe_url }}"}


def stored() -> dict:
    return {"templates": list(Template.objects.order_by("pk").values()), "history": HistoryEntry.objects.count()}


def test_create_keeps_history(personas):
    template = services.template_create(actor=personas.owner, data=GOOD)
    assert template.owner == personas.owner and template.version == 1 and template.name_key == "welcome"
    entry = HistoryEntry.objects.get(object_id=template.pk)
    assert entry.kind == "created" and entry.changes["body"][1] == GOOD["body"]


@pytest.mark.parametrize(("data", "field", "message"), [
    ({**GOOD, "body": "Hi\n{{7*7}}"}, "body", "Line 2: {{7*7}} is not a merge field"),
    ({**GOOD, "body": "{{ settings.SECRET_KEY }}"}, "body", "Line 1: unknown field {{ settings.SECRET_KEY }}."),
    ({**GOOD, "subject": "{{ contact.owner.password }}"}, "subject",
     "Line 1: unknown field {{ contact.owner.password }}."),
    ({**GOOD, "body": "{% if x %}a{% endif %}"}, "body", "Line 1: {% if x %} is not a merge field"),
    ({**GOOD, "body": "{{ contact.first_name|upper }}"}, "body",
     "Line 1: {{ contact.first_name|upper }} is not a merge field"),
    ({**GOOD, "body": "a\n\n{{ contact.first_name"}, "body", "Line 3: “{{” is not closed"),
    ({**GOOD, "subject": ""}, "subject", "An email template needs a subject."),
    ({**GOOD, "kind": "letter", "subject": ""}, "body", "Line 4: {{ unsubscribe_url }} cannot be used here."),
])
def test_refused_texts_store_nothing(personas, data, field, message):
    before = stored()
    with pytest.raises(ValidationError) as caught:
        services.template_create(actor=personas.owner, data=data)
    assert any(m.startswith(message) for m in caught.value.message_dict[field]), caught.value.message_dict
    assert stored() == before


def test_update_checks_only_what_changes_and_the_version(personas):
    # A text stored before a field was withdrawn still lets its name be changed.
    template = TemplateFactory(owner=personas.owner, body="{{ withdrawn.field }}")
    old_name = template.name
    template = services.template_update(actor=personas.owner, template=template, data={"name": "Renamed"},
                                        version=1)
    assert template.version == 2
    with pytest.raises(ValidationError) as caught:
        services.template_update(actor=personas.owner, template=template, data={"body": "{{ nope }}"}, version=2)
    assert caught.value.message_dict == {"body": ["Line 1: unknown field {{ nope }}."]}
    with pytest.raises(StaleVersion):
        services.template_update(actor=personas.owner, template=template, data={"name": "Again"}, version=1)
    assert Template.objects.get(pk=template.pk).name == "Renamed"
    entry = HistoryEntry.objects.filter(object_id=template.pk, kind="updated").get()
    assert entry.changes == {"name": [old_name, "Renamed"]}


def test_changing_the_kind_checks_both_texts(personas):
    template = TemplateFactory(owner=personas.owner, body="Bye {{ unsubscribe_url }}")
    with pytest.raises(ValidationError) as caught:
        services.template_update(actor=personas.owner, template=template, data={"kind": "letter"}, version=1)
    assert caught.value.message_dict["body"] == ["Line 1: {{ unsubscribe_url }} cannot be used here."]


def test_rights(personas):
    template = TemplateFactory(owner=personas.owner)
    with pytest.raises(PermissionDenied):
        services.template_create(actor=personas.viewer, data=GOOD)
    with pytest.raises(PermissionDenied):
        services.template_update(actor=personas.teammate, template=template, data={"name": "x"}, version=1)
    with pytest.raises(PermissionDenied):
        services.template_delete(actor=personas.marketer, template=TemplateFactory(owner=personas.marketer))


def test_delete_and_restore(personas):
    template = TemplateFactory(owner=personas.owner)
    services.template_delete(actor=personas.owner, template=template, version=1)
    assert not Template.objects.visible_to(personas.owner).filter(pk=template.pk).exists()
    services.template_restore(actor=personas.owner, template=template)
    assert Template.objects.visible_to(personas.owner).filter(pk=template.pk).exists()
    kinds = list(HistoryEntry.objects.filter(object_id=template.pk).order_by("id").values_list("kind", flat=True))
    assert kinds == ["deleted", "restored"]
