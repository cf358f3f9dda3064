"""record_visible (Python, for linked records already loaded) agrees with visible_to (SQL) for everyone."""

from __future__ import annotations

import pytest

from rapport.core.access import record_visible
from rapport.directory.models import Account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_python_and_sql_visibility_agree_for_every_persona_and_visibility(personas):
    people = personas.all()
    accounts = [
        AccountFactory(owner=owner, visibility=visibility)
        for owner in people.values()
        for visibility in ("private", "team", "everyone")
    ]
    deleted = AccountFactory(owner=personas.owner, visibility="everyone")
    Account.objects.filter(pk=deleted.pk).update(deleted_at="2026-01-01T00:00:00Z")
    deleted.refresh_from_db()
    for name, user in people.items():
        in_sql = set(Account.objects.visible_to(user).values_list("pk", flat=True))
        in_python = {a.pk for a in [*accounts, deleted] if record_visible(user, a)}
        assert in_python == in_sql, name


def test_nothing_is_visible_to_an_anonymous_visitor(personas):
    from django.contrib.auth.models import AnonymousUser

    assert not record_visible(AnonymousUser(), AccountFactory(owner=personas.owner))
    assert not record_visible(personas.owner, None)
