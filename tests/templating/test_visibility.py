"""The template list (page and API) carries exactly the templates each persona may see, stated from
the rules of tests/permissions/rules.py, not from the app's own visible_to (the permission matrix's
list check, for a record type it does not build)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from rapport.core.models import Visibility
from tests.conftest import ApiClient, client_for
from tests.factories import TemplateFactory
from tests.permissions.rules import PERSONAS, VISIBILITIES, sees

pytestmark = pytest.mark.django_db


def test_lists_carry_exactly_what_each_persona_may_see(personas):
    made = {}
    for persona in PERSONAS:
        for visibility in (*VISIBILITIES, "gone"):
            deleted = visibility == "gone"
            made[persona, visibility] = TemplateFactory(
                name=f"Tpl-{persona}-{visibility}", owner=getattr(personas, persona),
                visibility=Visibility.EVERYONE if deleted else visibility,
                deleted_at=timezone.now() if deleted else None)
    for persona in PERSONAS:
        expected = {t.public_id for (owner, visibility), t in made.items()
                    if visibility != "gone" and sees(persona, owner, visibility)}
        page = client_for(getattr(personas, persona)).get("/templates/?limit=200").content.decode()
        shown = set(re.findall(r'href="/templates/([a-z2-7]{16})/"', page))
        assert shown == expected, persona
        body = ApiClient(getattr(personas, persona)).get("templates", limit=200).json()
        assert {item["id"] for item in body["items"]} == expected and body["next"] is None, persona
        hidden = [t.name for t in made.values() if t.public_id not in expected]
        assert not [name for name in hidden if name in page], persona
