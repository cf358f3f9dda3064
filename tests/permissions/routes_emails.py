"""The permission matrix entries of logged email: pages and API (rapport.mail). See routes.py for the form.

A message is read as any record of its owner's is (SEE_OWNERS_RECORD); filing it, making a contact of its
sender, discarding and restoring it take the update right on the owner's records (CHANGE_OWNERS_RECORD).
Downloads (the raw source, an attachment) are reads of the message. The pending panel, the list and the
"file to" lookup answer everyone with what they may see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from tests.permissions.routes import Call, Route, api, page, version_of
from tests.permissions.rules import CHANGE_OWNERS_RECORD, EVERYONE, SEE_OWNERS_RECORD, everyone, table
from tests.permissions.world import World

EMAIL = "email"
DISCARDED = "discarded email"
UNKNOWN = "zzzzzzzzzzzzzzzz"


def _attachment_id(email_id: str) -> str:
    from rapport.mail.models import EmailAttachment

    found = EmailAttachment.objects.filter(email__public_id=email_id).values_list("public_id", flat=True).first()
    return found or UNKNOWN


@dataclass(frozen=True)
class AttachmentRoute(Route):
    """An attachment's download names the message and the attachment: the subject's first attachment (or, for
    another message, that one's)."""

    def url(self, world: World, *, value: str | None = None) -> str:
        email_id = value if value is not None else world.subject(self.subject).public_id
        attachment_id = _attachment_id(email_id)
        if self.is_api:
            return re.sub(r"\{attachment_id\}", attachment_id, re.sub(r"\{email_id\}", email_id, self.path))
        return reverse(self.key, args=[email_id, attachment_id])


def _file(world: World, actor: str) -> dict[str, Any]:
    """File to the case's account subject (the owner's, as visible as the message: whoever may file sees it)."""
    return {"records": [world.subject("account").ref], "version": world.subject(EMAIL).version}


ROUTES: list[Route] = [
    # Pages
    page("email_list", Call("GET", table(EVERYONE, 200))),
    page("email_pending", Call("GET", table(EVERYONE, 200))),
    page("email_lookup", Call("GET", table(EVERYONE, 200))),
    page("email_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=EMAIL),
    page("email_file", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=_file), subject=EMAIL),
    page("email_create_contact", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(EMAIL)),
         subject=EMAIL),
    page("email_discard", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(EMAIL)),
         subject=EMAIL),
    page("email_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(DISCARDED)),
         subject=DISCARDED),
    page("email_raw", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=EMAIL),
    AttachmentRoute(key="email_attachment", calls=(Call("GET", table(SEE_OWNERS_RECORD, 200)),), subject=EMAIL),

    # API
    api("GET /api/v1/emails", table(EVERYONE, 200)),
    api("GET /api/v1/emails/{email_id}", table(SEE_OWNERS_RECORD, 200), subject=EMAIL),
    api("POST /api/v1/emails/{email_id}/file", table(CHANGE_OWNERS_RECORD, 200), subject=EMAIL, writes=True,
        version=True, body=_file),
    api("POST /api/v1/emails/{email_id}/discard", table(CHANGE_OWNERS_RECORD, 200), subject=EMAIL, writes=True,
        version=True, body=version_of(EMAIL)),
    api("POST /api/v1/emails/{email_id}/restore", table(CHANGE_OWNERS_RECORD, 200), subject=DISCARDED, writes=True,
        version=True, body=version_of(DISCARDED)),
    api("POST /api/v1/emails/{email_id}/create-contact", table(CHANGE_OWNERS_RECORD, 200), subject=EMAIL,
        writes=True, version=True, body=version_of(EMAIL)),
    api("GET /api/v1/emails/{email_id}/raw", table(SEE_OWNERS_RECORD, 200), subject=EMAIL),
    AttachmentRoute(key="GET /api/v1/emails/{email_id}/attachments/{attachment_id}",
                    calls=(Call("GET", table(SEE_OWNERS_RECORD, 200)),), subject=EMAIL),
]
