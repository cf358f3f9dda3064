"""Search shows only what the user may see, ever: the index narrows, each type's own visible_to decides —
so a stale index row (a record made private or deleted behind the index's back) never leaks."""

from __future__ import annotations

import pytest
from django.utils import timezone

from rapport.activities.models import Activity
from rapport.core.models import Visibility
from rapport.directory.models import Account, Contact
from rapport.search.models import SearchEntry
from rapport.search.selectors import search
from rapport.support.models import SupportItem
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EmailMessageFactory,
    NoteFactory,
    SupportItemFactory,
)

pytestmark = pytest.mark.django_db


def titles(user, q) -> set[str]:
    return {hit.title for hit in search(user=user, q=q).hits}


def test_private_and_team_records_stay_with_those_who_may_see_them(personas):
    for visibility in Visibility.values:
        ContactFactory(first_name="Quill", last_name=f"Owner{visibility}", owner=personas.owner, visibility=visibility)
    assert titles(personas.owner, "quill") == {"Quill Ownerprivate", "Quill Ownerteam", "Quill Ownereveryone"}
    assert titles(personas.teammate, "quill") == {"Quill Ownerteam", "Quill Ownereveryone"}
    assert titles(personas.outsider, "quill") == {"Quill Ownereveryone"}
    assert titles(personas.manager, "quill") == {"Quill Ownerprivate", "Quill Ownerteam", "Quill Ownereveryone"}
    assert titles(personas.admin, "quill") == {"Quill Ownerprivate", "Quill Ownerteam", "Quill Ownereveryone"}


def test_a_record_made_private_behind_the_index_does_not_leak(personas):
    contact = ContactFactory(first_name="Quill", last_name="Secret", owner=personas.owner)
    assert titles(personas.outsider, "quill secret") == {"Quill Secret"}
    Contact.objects.filter(pk=contact.pk).update(visibility=Visibility.PRIVATE)  # the index still says everyone
    assert SearchEntry.objects.get(record_id=contact.pk, record_type="contact").visibility == Visibility.EVERYONE
    assert titles(personas.outsider, "quill secret") == set()
    assert titles(personas.owner, "quill secret") == {"Quill Secret"}


def test_a_record_deleted_behind_the_index_does_not_show(personas):
    account = AccountFactory(name="Vanishing Widgets", owner=personas.owner)
    Account.objects.filter(pk=account.pk).update(deleted_at=timezone.now())
    assert titles(personas.owner, "vanishing") == set()
    assert titles(personas.admin, "vanishing") == set()


def test_a_deleted_record_made_by_a_factory_is_not_found(personas):
    AccountFactory(name="Born Deleted", owner=personas.owner, deleted_at=timezone.now())
    assert titles(personas.admin, "born deleted") == set()
    assert not SearchEntry.objects.filter(record_type="account").exists()


def test_whoever_an_activity_is_assigned_to_finds_it(personas):
    ActivityFactory(subject="Quarterly audit walkthrough", owner=personas.owner, visibility=Visibility.PRIVATE,
                    assignees=[personas.owner, personas.outsider])
    assert titles(personas.outsider, "audit walk") == {"Quarterly audit walkthrough"}
    assert titles(personas.teammate, "audit walk") == set()


def test_whoever_a_support_item_is_assigned_to_finds_it(personas):
    item = SupportItemFactory(subject="Boiler leaks again", owner=personas.owner, visibility=Visibility.PRIVATE,
                              account=AccountFactory(owner=personas.owner))
    assert titles(personas.outsider, "boiler") == set()
    SupportItem.objects.filter(pk=item.pk).update(assignee=personas.outsider)  # the index row is unchanged
    assert titles(personas.outsider, "boiler") == {f"{item.reference} Boiler leaks again"}


def test_a_note_shows_only_with_the_record_it_is_about(personas):
    account = AccountFactory(name="Sleepy Hollow Inc", owner=personas.owner, visibility=Visibility.EVERYONE)
    NoteFactory(owner=personas.owner, about=account, body="Pumpkin delivery is late.")
    assert titles(personas.teammate, "pumpkin") == {"Pumpkin delivery is late."}
    Account.objects.filter(pk=account.pk).update(visibility=Visibility.PRIVATE)
    assert titles(personas.teammate, "pumpkin") == set()
    assert titles(personas.outsider, "pumpkin") == set()  # a note is its author's team's alone


def test_a_linked_record_the_user_may_not_see_is_not_named(personas):
    hidden = AccountFactory(name="Hush Holdings", owner=personas.outsider, visibility=Visibility.PRIVATE)
    ContactFactory(first_name="Open", last_name="Person", owner=personas.owner, account=hidden)
    hit = search(user=personas.owner, q="open person").hits[0]
    assert "Hush" not in hit.subtitle
    assert "Hush Holdings" in search(user=personas.outsider, q="open person").hits[0].subtitle


def test_private_logged_email_is_its_owners(personas):
    EmailMessageFactory(subject="Salary review", owner=personas.owner, visibility=Visibility.PRIVATE)
    assert titles(personas.owner, "salary") == {"Salary review"}
    assert titles(personas.teammate, "salary") == set()
    assert titles(personas.manager, "salary") == {"Salary review"}


def test_a_type_the_user_may_not_read_is_not_searched(personas):
    from rapport.core.models import RolePermission, Scope

    ActivityFactory(subject="Widget sync", owner=personas.owner)
    AccountFactory(name="Widget World", owner=personas.owner)
    role = personas.outsider.roles.get()
    RolePermission.objects.create(role=role, record_type="activity", action="read", scope=Scope.NONE)
    from rapport.core.access import forget_access
    from rapport.core.models import User

    outsider = User.objects.get(pk=personas.outsider.pk)
    forget_access(outsider)
    assert titles(outsider, "widget") == {"Widget World"}
    assert not Activity.objects.visible_to(outsider).exists()
