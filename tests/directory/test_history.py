"""Every create, change, delete and restore is kept: who, when, which fields, old and new values."""

from __future__ import annotations

import pytest

from rapport.core.history import history_for
from rapport.core.models import HistoryEntry
from rapport.directory import services
from tests.conftest import client_for
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def kinds(record) -> list[str]:
    return [entry.kind for entry in reversed(history_for(record, user=record.owner))]


def test_create_records_who_and_the_initial_values(personas):
    account = services.account_create(actor=personas.owner, data={"name": "Acme", "industry": "Tools"})
    (entry,) = history_for(account, user=personas.admin)
    assert entry.kind == "created" and entry.actor == personas.owner
    assert entry.changes["name"] == [None, "Acme"]
    assert entry.changes["industry"] == [None, "Tools"]
    assert entry.changes["owner"] == [None, personas.owner.display_name]


def test_update_records_old_and_new_values_of_changed_fields_only(personas):
    account = services.account_create(actor=personas.owner, data={"name": "Acme", "industry": "Tools"})
    services.account_update(actor=personas.manager, account=account, version=1,
                            data={"name": "Acme Ltd", "industry": "Tools", "stage": "mature"})
    entry = history_for(account, user=personas.admin)[0]
    assert entry.kind == "updated" and entry.actor == personas.manager
    assert entry.changes["name"] == ["Acme", "Acme Ltd"]
    assert entry.changes["stage"] == ["", "mature"]
    assert entry.changes["stage_changed_on"][0] is None
    assert "industry" not in entry.changes


def test_an_update_that_changes_nothing_writes_nothing(personas):
    account = services.account_create(actor=personas.owner, data={"name": "Acme"})
    services.account_update(actor=personas.owner, account=account, version=1, data={"name": "Acme"})
    assert kinds(account) == ["created"]
    account.refresh_from_db()
    assert account.version == 1


def test_owner_change_is_recorded_by_name(personas):
    account = services.account_create(actor=personas.owner, data={"name": "Acme"})
    services.account_update(actor=personas.manager, account=account, version=1, data={"owner": personas.teammate})
    changes = history_for(account, user=personas.admin)[0].changes
    assert changes["owner"] == [personas.owner.display_name, personas.teammate.display_name]


def test_delete_and_restore_are_recorded(personas):
    account = services.account_create(actor=personas.owner, data={"name": "Acme"})
    services.account_delete(actor=personas.owner, account=account)
    services.account_restore(actor=personas.manager, account=account)
    assert kinds(account) == ["created", "deleted", "restored"]
    assert history_for(account, user=personas.admin)[0].actor == personas.manager


def test_contact_history(personas):
    contact = services.contact_create(actor=personas.owner, data={"last_name": "Berg"})
    services.contact_update(actor=personas.owner, contact=contact, version=1, data={"title": "CEO"})
    services.contact_delete(actor=personas.owner, contact=contact)
    services.contact_restore(actor=personas.owner, contact=contact)
    assert kinds(contact) == ["created", "updated", "deleted", "restored"]
    assert history_for(contact, user=personas.admin)[2].changes == {"title": ["", "CEO"]}


def test_a_refused_change_writes_no_history(personas, api_for):
    account = AccountFactory(owner=personas.owner)
    api_for(personas.teammate).patch(f"accounts/{account.public_id}", {"version": 1, "name": "X"})
    api_for(personas.owner).patch(f"accounts/{account.public_id}", {"version": 9, "name": "X"})
    assert history_for(account, user=personas.admin) == []


def test_api_changes_are_attributed_to_the_token_owner(personas, api_for):
    body = api_for(personas.owner).post("accounts", {"name": "Via API"}).json()
    api_for(personas.manager).patch(f"accounts/{body['id']}", {"version": 1, "phone": "+47 1234"})
    from rapport.directory.models import Account

    actors = [e.actor for e in reversed(history_for(Account.objects.get(public_id=body["id"]), user=personas.admin))]
    assert actors == [personas.owner, personas.manager]


def test_account_page_shows_the_history(personas):
    account = services.account_create(actor=personas.owner, data={"name": "Acme", "industry": "Tools"})
    services.account_update(actor=personas.manager, account=account, version=1,
                            data={"industry": "<i>Robots</i>"})
    page = client_for(personas.owner).get(f"/accounts/{account.public_id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "History" in html
    assert personas.manager.display_name in html and personas.owner.display_name in html
    assert "changed" in html and "created" in html
    assert "<td>Industry</td>" in html and "Tools" in html
    assert "&lt;i&gt;Robots&lt;/i&gt;" in html and "<i>Robots</i>" not in html


def test_contact_page_shows_the_history(personas):
    contact = services.contact_create(actor=personas.owner, data={"last_name": "Berg"})
    services.contact_update(actor=personas.owner, contact=contact, version=1, data={"title": "CEO"})
    html = client_for(personas.owner).get(f"/contacts/{contact.public_id}/").content.decode()
    assert "<td>Title</td>" in html and "CEO" in html


def test_an_address_only_change_is_in_the_history_and_bumps_the_version(personas):
    account = services.account_create(actor=personas.owner, data={"name": "Acme"},
                                      addresses=[{"kind": "billing", "city": "Oslo"}])
    services.account_update(actor=personas.owner, account=account, data={}, version=1,
                            addresses=[{"kind": "billing", "city": "Bergen"}])
    account.refresh_from_db()
    assert account.version == 2
    entry = HistoryEntry.objects.filter(kind="updated").get()
    assert entry.changes == {"addresses": ["Billing: Oslo", "Billing: Bergen"]}
    # the same addresses again change nothing
    services.account_update(actor=personas.owner, account=account, data={}, version=2,
                            addresses=[{"kind": "billing", "city": "Bergen"}])
    account.refresh_from_db()
    assert account.version == 2


def test_history_hides_the_name_of_a_linked_account_the_reader_may_not_see(personas):
    from tests.factories import AccountFactory as Accounts

    hidden = Accounts(owner=personas.outsider, visibility="private", name="Secret Holdings")
    shown = Accounts(owner=personas.owner, visibility="everyone", name="Open Parent")
    account = services.account_create(actor=personas.admin, data={"name": "Child", "owner": personas.owner})
    account = services.account_update(actor=personas.admin, account=account, version=1, data={"parent": hidden})
    services.account_update(actor=personas.admin, account=account, version=2, data={"parent": shown})
    rows = [row for entry in history_for(account, user=personas.owner) for row in entry.rows]
    assert ("Parent account", "Secret Holdings", "Open Parent") not in rows
    assert ("Parent account", "(hidden)", "Open Parent") in rows
    admin_rows = [row for entry in history_for(account, user=personas.admin) for row in entry.rows]
    assert ("Parent account", "Secret Holdings", "Open Parent") in admin_rows
    page = client_for(personas.owner).get(f"/accounts/{account.public_id}/").content.decode()
    assert "Secret Holdings" not in page


def test_a_linked_name_stored_without_its_id_is_shown_as_hidden(personas):
    account = services.account_create(actor=personas.owner, data={"name": "Child"})
    HistoryEntry.objects.create(content_type=HistoryEntry.objects.get().content_type, object_id=account.pk,
                                kind="updated", actor=personas.owner, changes={"parent": ["", "Old Secret Ltd"]})
    rows = [row for entry in history_for(account, user=personas.owner) for row in entry.rows]
    assert ("Parent account", "", "(hidden)") in rows
