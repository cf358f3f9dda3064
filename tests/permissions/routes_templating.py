"""The permission matrix entries of templates: pages and API (rapport.templating). See routes.py for the form.

Previews and serial letters read, they write nothing: whoever sees the template may ask for them. The
letters go to the case's contact subject, which has the template's owner and visibility. The template
list's visibility per persona is tested in tests/templating/test_visibility.py.
"""

from __future__ import annotations

from typing import Any

from tests.permissions.routes import Call, Route, api, page, version_of
from tests.permissions.rules import CHANGE_OWNERS_RECORD, CREATE, EVERYONE, SEE_OWNERS_RECORD, everyone, table
from tests.permissions.world import World

TEMPLATE = "template"


def template_form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    """The template form as the page posts it (the record's own values, and one change, when editing)."""
    data = {"name": "Renamed by the matrix" if record else "Matrix template", "kind": "letter",
            "description": "", "subject": "", "body": "Dear {{ contact.first_name }}",
            "owner": record.owner.public_id if record else world.user(actor).public_id,
            "visibility": record.visibility if record else "everyone"}
    if record is not None:
        data["version"] = str(record.version)
    return data


def letters_form(world: World, actor: str) -> dict[str, Any]:
    return {"action": "make", "source": "contacts", "contacts": [world.subject("contact").public_id],
            "format": "docx"}


ROUTES: list[Route] = [
    page("template_list", Call("GET", table(EVERYONE, 200))),
    page("template_create", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=template_form)),
    page("template_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=TEMPLATE),
    page("template_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: template_form(w, a, w.subject(TEMPLATE))),
         subject=TEMPLATE),
    page("template_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(TEMPLATE)),
         subject=TEMPLATE),
    page("template_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True),
         subject="deleted template"),
    page("template_letters", Call("GET", table(SEE_OWNERS_RECORD, 200)),
         Call("POST", table(SEE_OWNERS_RECORD, 200), body=letters_form),
         subject=TEMPLATE),

    api("GET /api/v1/templates", table(EVERYONE, 200)),
    api("POST /api/v1/templates", table(CREATE, 201), writes=True,
        body=lambda w, a: {"name": "Matrix template", "subject": "Hi {{ contact.first_name }}", "body": "Text"}),
    api("GET /api/v1/templates/{template_id}", table(SEE_OWNERS_RECORD, 200), subject=TEMPLATE),
    api("PATCH /api/v1/templates/{template_id}", table(CHANGE_OWNERS_RECORD, 200), subject=TEMPLATE,
        writes=True, version=True,
        body=lambda w, a: {"version": w.subject(TEMPLATE).version, "description": "Matrix"}),
    api("DELETE /api/v1/templates/{template_id}", table(CHANGE_OWNERS_RECORD, 204), subject=TEMPLATE,
        writes=True, version=True),
    api("POST /api/v1/templates/{template_id}/restore", table(CHANGE_OWNERS_RECORD, 200),
        subject="deleted template", writes=True),
    api("POST /api/v1/templates/{template_id}/preview", table(SEE_OWNERS_RECORD, 200), subject=TEMPLATE,
        body=lambda w, a: {"contact": w.subject("contact").public_id}),
    api("POST /api/v1/templates/{template_id}/letters", table(SEE_OWNERS_RECORD, 200), subject=TEMPLATE,
        body=lambda w, a: {"contacts": [w.subject("contact").public_id], "format": "pdf"}),
]
