"""The Django admin: open to Rapport's administrators, read-only where services must do the writing."""

from __future__ import annotations

import pytest

from rapport.core import services
from rapport.core.models import HistoryEntry, Role
from rapport.directory import services as directory
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_administrator_made_in_settings_can_use_the_admin(personas):
    made = services.user_save(actor=personas.admin, user=None, data={"username": "newadmin", "email": "n@x.org"},
                              roles=[Role.objects.get(slug="admin")])
    assert made.is_staff
    client = client_for(made)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/core/user/").status_code == 200
    assert client.get("/admin/directory/account/").status_code == 200


def test_staff_status_alone_opens_nothing():
    clerk = UserFactory(username="clerk", is_staff=True, role_slugs="sales")
    assert client_for(clerk).get("/admin/core/user/").status_code == 403


def test_history_and_records_cannot_be_changed_or_deleted_in_the_admin(personas):
    account = directory.account_create(actor=personas.owner, data={"name": "Acme"})
    entry = HistoryEntry.objects.get()
    client = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(f"/admin/core/historyentry/{entry.pk}/delete/").status_code == 403
    assert client.post(f"/admin/core/historyentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/directory/account/{account.pk}/delete/", {"post": "yes"}).status_code == 403
    assert HistoryEntry.objects.filter(pk=entry.pk).exists()
