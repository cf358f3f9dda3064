"""Likely duplicates: found by email (either field, any case), website domain and name; only among what
the user may see; a pair marked "not a duplicate" stays gone; paging walks every group exactly once."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from rapport.core.models import HistoryEntry, Visibility
from rapport.directory import duplicates
from rapport.directory.duplicates import duplicate_groups, mark_not_duplicate, one_edit_apart
from rapport.directory.models import Account, Contact
from tests.conftest import client_for
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def found(user, record_type, **options) -> set[tuple[str, frozenset[str]]]:
    """(reason, the names of the records) of every group, walking every page."""
    groups: set[tuple[str, frozenset[str]]] = set()
    cursor = None
    for _page in range(100):
        page = duplicate_groups(user=user, record_type=record_type, cursor=cursor, **options)
        for group in page.groups:
            for reason in [group.reason, *(reason for reason, _key in group.also)]:
                groups.add((reason, frozenset(str(record) for record in group.records)))
        cursor = page.next_cursor
        if cursor is None:
            return groups
    raise AssertionError("the walk did not end")


def names(*values: str) -> frozenset[str]:
    return frozenset(values)


def test_contacts_with_the_same_email_in_either_field_match_whatever_the_case(personas):
    owner = personas.owner
    ContactFactory(owner=owner, first_name="Anna", last_name="One", email="Anna.Berg@Example.com")
    ContactFactory(owner=owner, first_name="Anna", last_name="Two", email="anna.berg@example.com")
    ContactFactory(owner=owner, first_name="Anna", last_name="Three", email="anna@home.example",
                   secondary_email="ANNA.BERG@example.com")
    ContactFactory(owner=owner, first_name="Bo", last_name="Four", secondary_email="bo@example.com")
    ContactFactory(owner=owner, first_name="Bo", last_name="Five", secondary_email="Bo@Example.com")
    ContactFactory(owner=owner, first_name="Cy", last_name="Alone", email="cy@example.com",
                   secondary_email="cy@example.com")  # the same address twice on one contact is no pair

    assert found(owner, "contact") == {
        ("email", names("Anna One", "Anna Two", "Anna Three")),
        ("email", names("Bo Four", "Bo Five")),
    }


def test_accounts_with_the_same_website_domain_email_or_name_match(personas):
    owner = personas.owner
    AccountFactory(owner=owner, name="Acme", website="https://www.acme.example/about")
    AccountFactory(owner=owner, name="Acme Web Form", website="http://acme.example")
    AccountFactory(owner=owner, name="Acme Typed", website="ACME.example")
    AccountFactory(owner=owner, name="Acme Org", website="https://acme.example.org")
    AccountFactory(owner=owner, name="Bäckerei Müller", email="info@mueller.example")
    AccountFactory(owner=owner, name="BACKEREI MULLER", email="INFO@mueller.example")

    assert found(owner, "account") == {
        ("website", names("Acme", "Acme Web Form", "Acme Typed")),
        ("email", names("Bäckerei Müller", "BACKEREI MULLER")),
        ("name", names("Bäckerei Müller", "BACKEREI MULLER")),
    }
    assert found(owner, "account", reason="website") == {("website", names("Acme", "Acme Web Form", "Acme Typed"))}


def test_contact_names_match_at_the_same_account_only(personas):
    owner = personas.owner
    acme, other = AccountFactory(owner=owner, name="Acme"), AccountFactory(owner=owner, name="Other")
    ContactFactory(owner=owner, account=acme, first_name="Hiroshi", last_name="Hansen")
    ContactFactory(owner=owner, account=acme, first_name="Hiroshi", last_name="Hansea")  # one letter off
    ContactFactory(owner=owner, account=acme, first_name="Hiroshi", last_name="Hanson-Berg")  # not near
    ContactFactory(owner=owner, account=other, first_name="Hiroshi", last_name="Hansen")  # another account
    ContactFactory(owner=owner, account=None, first_name="Hiroshi", last_name="Hansen")  # no account
    ContactFactory(owner=owner, account=acme, first_name="Émile", last_name="Zoë")
    ContactFactory(owner=owner, account=acme, first_name="emile", last_name="ZOE")  # the same, folded
    ContactFactory(owner=owner, account=acme, first_name="Li", last_name="Wu")
    ContactFactory(owner=owner, account=acme, first_name="Li", last_name="Xu")  # too short to guess at

    assert found(owner, "contact") == {
        ("name", names("Hiroshi Hansen", "Hiroshi Hansea")),
        ("name", names("Émile Zoë", "emile ZOE")),
    }


def test_one_edit_apart():
    assert one_edit_apart("hansen anna", "hansen anna")
    assert one_edit_apart("hansen anna", "hanson anna")  # a change
    assert one_edit_apart("hansen anna", "hansen ana")  # a letter left out
    assert one_edit_apart("hansen ana", "hansen anna")  # a letter added
    assert not one_edit_apart("hansen anna", "hanson ana")
    assert not one_edit_apart("li wu", "li xu")


def test_never_shows_a_record_the_user_may_not_see(personas):
    owner, outsider = personas.owner, personas.outsider
    ContactFactory(owner=owner, last_name="Hidden", email="pat@example.com", visibility=Visibility.PRIVATE)
    ContactFactory(owner=outsider, last_name="Shown", email="pat@example.com", visibility=Visibility.EVERYONE)
    ContactFactory(owner=outsider, last_name="Also shown", email="PAT@example.com", visibility=Visibility.EVERYONE)
    ContactFactory(owner=owner, last_name="Secret twin", email="solo@example.com", visibility=Visibility.PRIVATE)
    ContactFactory(owner=outsider, last_name="Solo", email="solo@example.com", visibility=Visibility.EVERYONE)

    groups = found(outsider, "contact")
    assert len(groups) == 1
    ((reason, members),) = groups
    assert reason == "email" and {m.split(" ", 1)[1] for m in members} == {"Shown", "Also shown"}
    assert len(found(owner, "contact")) == 2  # the owner sees its own records too: two groups

    for response in (client_for(outsider).get(reverse("contact_duplicates")),
                     client_for(outsider).get("/api/v1/contacts/duplicates")):
        assert response.status_code == 200
        text = response.content.decode()
        assert "Shown" in text and "Hidden" not in text and "Secret twin" not in text and "Solo" not in text


def test_a_pair_marked_not_a_duplicate_stays_gone(personas):
    owner = personas.owner
    first = ContactFactory(owner=owner, last_name="First", email="same@example.com")
    second = ContactFactory(owner=owner, last_name="Second", email="same@example.com")
    third = ContactFactory(owner=owner, last_name="Third", email="same@example.com")
    client = client_for(owner)

    response = client.post(reverse("contact_not_duplicate", args=[first.public_id]),
                           {"other": second.public_id, "next": reverse("contact_duplicates")})
    assert response.status_code == 302 and response["Location"] == reverse("contact_duplicates")
    # First stays with Third; Second, not a duplicate of First, still pairs with Third.
    assert {members for _r, members in found(owner, "contact")} == {
        frozenset({str(first), str(third)}), frozenset({str(second), str(third)})}

    assert client.post(reverse("contact_not_duplicate", args=[third.public_id]),
                       {"other": first.public_id}).status_code == 302
    api = client.post(f"/api/v1/contacts/{second.public_id}/not-duplicate", {"other": third.public_id},
                      content_type="application/json")
    assert api.status_code == 204
    assert found(owner, "contact") == set()
    page = client.get(reverse("contact_duplicates")).content.decode()
    assert "No likely duplicates found" in page

    # Who said so, and when, is in both records' history; saying it twice adds nothing.
    kinds = HistoryEntry.objects.filter(content_type=ContentType.objects.get_for_model(Contact),
                                        kind=HistoryEntry.Kind.DISTINCT)
    assert kinds.count() == 6
    mark_not_duplicate(actor=owner, record=first, other=second)
    assert kinds.count() == 6
    detail = client.get(reverse("contact_detail", args=[first.public_id])).content.decode()
    assert "marked as not a duplicate" in detail and "Not a duplicate of" in detail


def test_marking_needs_the_right_to_change_and_two_records(personas, api_for):
    first = ContactFactory(owner=personas.owner, last_name="First", email="same@example.com")
    second = ContactFactory(owner=personas.owner, last_name="Second", email="same@example.com")
    account = AccountFactory(owner=personas.owner)
    before = HistoryEntry.objects.count()
    teammate = api_for(personas.teammate)
    assert teammate.post(f"contacts/{first.public_id}/not-duplicate", {"other": second.public_id}).status_code == 403
    owner = api_for(personas.owner)
    itself = owner.post(f"contacts/{first.public_id}/not-duplicate", {"other": first.public_id})
    assert itself.status_code == 422 and "other" in itself.json()["errors"]
    wrong_type = owner.post(f"contacts/{first.public_id}/not-duplicate", {"other": account.public_id})
    assert wrong_type.status_code == 422 and "account" in wrong_type.json()["errors"]["other"][0]
    assert owner.post(f"contacts/{first.public_id}/not-duplicate", {"other": "zzzzzzzzzzzzzzzz"}).status_code == 404
    assert HistoryEntry.objects.count() == before


@pytest.mark.parametrize("window", [2, 3, 5])
def test_paging_walks_every_group_exactly_once(personas, monkeypatch, window):
    """Small windows and budgets: groups across window edges, pages that stop early, the reasons in turn."""
    monkeypatch.setattr(duplicates, "WINDOW", window)
    monkeypatch.setattr(duplicates, "BUDGET", window * 2)
    monkeypatch.setattr(duplicates, "NAME_WINDOW", window)
    monkeypatch.setattr(duplicates, "NAME_BUDGET", window * 2)
    owner = personas.owner
    acme = AccountFactory(owner=owner, name="Acme")
    expected = set()
    for i in range(7):
        size = 2 + i % 3
        members = [ContactFactory(owner=owner, first_name=f"G{i}", last_name=f"Member{j}",
                                  email=f"group{i}@example.com") for j in range(size)]
        expected.add(("email", frozenset(str(m) for m in members)))
        for j in range(i % 2 + 1):  # loners between the groups
            ContactFactory(owner=owner, email=f"group{i}-loner{j}@example.com")
    twins = [ContactFactory(owner=owner, account=acme, first_name="Twin", last_name=f"Number{i}") for i in range(2)]
    expected.add(("name", frozenset(str(t) for t in twins)))
    seen: list[tuple[str, frozenset[str]]] = []
    cursor = None
    for _page in range(200):
        page = duplicate_groups(user=owner, record_type="contact", cursor=cursor, limit=2)
        seen += [(g.reason, frozenset(str(r) for r in g.records)) for g in page.groups]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen, key=str) == sorted(expected, key=str)  # each once


def test_a_large_group_shows_the_oldest_and_says_there_are_more(personas):
    owner = personas.owner
    people = [ContactFactory(owner=owner, email="info@example.com") for _i in range(duplicates.MEMBER_CAP + 3)]
    page = duplicate_groups(user=owner, record_type="contact")
    (group,) = page.groups
    assert group.more and [r.pk for r in group.records] == [p.pk for p in people[:duplicates.MEMBER_CAP]]


def test_api_lists_groups_with_their_reason(personas, api_for):
    owner = personas.owner
    acme = AccountFactory(owner=owner, name="Acme")
    a = ContactFactory(owner=owner, account=acme, first_name="Anna", last_name="Berg", email="anna@example.com")
    b = ContactFactory(owner=owner, account=acme, first_name="Anna", last_name="Berg", email="anna@example.com")
    c = ContactFactory(owner=owner, account=acme, first_name="Bo", last_name="Lindqvist")
    d = ContactFactory(owner=owner, account=acme, first_name="Bo", last_name="Lindquist")
    api = api_for(owner)
    body = api.get("contacts/duplicates").json()
    assert [item["reason"] for item in body["items"]] == ["email", "name"] and body["next"] is None
    first, second = body["items"]
    assert first["key"] == "anna@example.com" and first["reason_label"] == "Same email" and first["more"] is False
    assert first["also"] == [{"reason": "name", "key": "berg anna"}]  # the same two, found by name too
    assert [r["id"] for r in first["records"]] == [a.public_id, b.public_id]
    assert first["records"][0]["account"] == {"id": acme.public_id, "name": "Acme"}
    assert first["records"][0]["version"] == a.version
    assert [r["id"] for r in second["records"]] == [c.public_id, d.public_id] and second["also"] == []
    assert [i["reason"] for i in api.get("contacts/duplicates", reason="name").json()["items"]] == ["name", "name"]
    one = api.get("contacts/duplicates", limit=1).json()
    assert len(one["items"]) == 1 and one["next"]
    rest = api.get("contacts/duplicates", limit=1, cursor=one["next"]).json()
    # The names come next; Anna Berg's pair again, found by name (one page merges the reasons, not two).
    assert [i["reason"] for i in rest["items"]] == ["name", "name"] and rest["next"] is None

    assert api.get("accounts/duplicates").json() == {"items": [], "next": None}
    for params, name in (({"reason": "phone"}, "reason"), ({"cursor": "forged"}, "cursor"),
                         ({"colour": "red"}, "colour"), ({"limit": 0}, "limit")):
        response = api.get("contacts/duplicates", **params)
        assert response.status_code == 400 and name in response.json()["errors"], params
    # "duplicates" is not taken for a contact's id.
    assert api.get("contacts/duplicates").status_code == 200
    assert api.get(f"contacts/{a.public_id}").json()["id"] == a.public_id


def test_duplicates_pages(personas):
    owner = personas.owner
    AccountFactory(owner=owner, name="Acme", website="acme.example")
    AccountFactory(owner=owner, name="Acme Copy", website="www.acme.example")
    client = client_for(owner)
    listing = client.get(reverse("account_list")).content.decode()
    assert f'href="{reverse("account_duplicates")}"' in listing
    assert f'href="{reverse("contact_duplicates")}"' in client.get(reverse("contact_list")).content.decode()
    page = client.get(reverse("account_duplicates")).content.decode()
    assert "Same website" in page and "acme.example" in page and "Acme Copy" in page
    assert "Compare and merge" in page and "Not a duplicate" in page
    assert client.get(reverse("account_duplicates"), {"reason": "name"}).content.decode().count("dup-group") == 0
    bad = client.get(reverse("account_duplicates"), {"cursor": "forged"})
    assert bad.status_code == 400 and "cursor" in bad.content.decode()


def test_a_user_without_the_read_right_gets_nothing(personas):
    from rapport.core.models import Role, RolePermission

    role = Role.objects.get(slug="marketing")
    RolePermission.objects.create(role=role, record_type="contact", action="read", scope="none")
    ContactFactory(owner=personas.owner, email="same@example.com")
    ContactFactory(owner=personas.owner, email="same@example.com")
    assert client_for(personas.marketer).get(reverse("contact_duplicates")).status_code == 403
    assert client_for(personas.owner).get(reverse("contact_duplicates")).status_code == 200
    assert Account.objects.count() == 0
