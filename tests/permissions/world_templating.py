"""Permission-matrix subjects and snapshot tables of templates (rapport.templating).

RECORD_SUBJECTS: builders of a business record owned by `owner`, one per visibility (as in world.py);
OTHER_SUBJECTS: builders of anything else a URL names; SNAPSHOT: table name -> rows, for the check
that a denied write changes nothing.

The template subject is a letter template, so that its preview and its serial letters can be asked
for; the letters go to the case's contact subject (the owner's, with the same visibility: whoever sees
the template sees the contact).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Personas


def _template(personas: Personas, visibility: str, *, deleted: bool = False) -> Any:
    from rapport.templating import services
    from rapport.templating.models import Template

    owner = personas.owner
    template = services.template_create(actor=owner, data={
        "name": f"Subject template {visibility}{' gone' if deleted else ''}", "kind": "letter",
        "body": "Dear {{ contact.first_name }},\n\n{{ user.signature }}", "visibility": visibility})
    if deleted:
        services.template_delete(actor=owner, template=template)
    return Template.objects.get(pk=template.pk)


def _templates() -> Any:
    from rapport.templating.models import Template

    return Template.objects.order_by("pk").values()


RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {
    "template": _template,
    "deleted template": lambda p, v: _template(p, v, deleted=True),
}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {}
SNAPSHOT: dict[str, Callable[[], Any]] = {"templates": _templates}
