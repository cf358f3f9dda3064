"""Input that once produced a 500, a lost answer or an unbounded query now gets a clear 4xx."""

from __future__ import annotations

import pytest

from rapport.directory import services
from rapport.directory.models import Account
from tests.conftest import client_for
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("website", ["http://[::1", "http://[x]"])
def test_a_website_that_is_no_url_is_a_422_naming_the_field(personas, api_for, website):
    api = api_for(personas.owner)
    answer = api.post("accounts", {"name": "X", "website": website})
    assert answer.status_code == 422 and "website" in answer.json()["errors"]
    account = AccountFactory(owner=personas.owner)
    answer = api.patch(f"accounts/{account.public_id}", {"version": 1, "website": website})
    assert answer.status_code == 422 and "website" in answer.json()["errors"]
    assert Account.objects.count() == 1


def test_attribute_filters_are_capped(personas, api_for):
    many = "&".join(f"attr=k{i}:v" for i in range(11))
    answer = api_for(personas.owner).client.get(f"/api/v1/accounts?{many}", headers=api_for(personas.owner).headers)
    assert answer.status_code == 400 and "attr" in answer.json()["errors"]
    assert client_for(personas.owner).get(f"/accounts/?{many}").status_code == 400


def test_a_nul_character_is_refused_in_urls_and_bodies(personas, api_for):
    client = client_for(personas.owner)
    assert client.get("/accounts/?q=a%00b").status_code == 400
    assert client.get("/accounts/a%00b/").status_code == 400
    answer = api_for(personas.owner).post("accounts", {"name": "a\u0000b"})
    assert answer.status_code == 422 and "name" in answer.json()["errors"]
    assert not Account.objects.exists()


def test_a_create_that_ends_out_of_sight_still_answers_with_the_record(personas, api_for):
    answer = api_for(personas.manager).post("accounts", {
        "name": "Hidden Co", "owner": personas.outsider.public_id, "visibility": "private"})
    assert answer.status_code == 201 and answer.json()["name"] == "Hidden Co"
    assert Account.objects.count() == 1


def test_a_record_of_an_inactive_owner_can_be_edited_without_giving_it_away(personas):
    account = AccountFactory(owner=personas.teammate, name="Kept")
    personas.teammate.is_active = False
    personas.teammate.save()
    form = {"name": "Kept", "owner": personas.teammate.public_id, "visibility": "everyone", "phone": "123",
            "version": "1", "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0"}
    answer = client_for(personas.manager).post(f"/accounts/{account.public_id}/edit/", form)
    assert answer.status_code == 302
    account.refresh_from_db()
    assert account.phone == "123" and account.owner == personas.teammate


def test_a_second_restore_of_the_same_record_is_a_conflict(personas):
    from rapport.core.errors import StaleVersion

    account = services.account_create(actor=personas.owner, data={"name": "Once"})
    services.account_delete(actor=personas.owner, account=account)
    stale = Account.objects.get(pk=account.pk)
    services.account_restore(actor=personas.owner, account=Account.objects.get(pk=account.pk))
    with pytest.raises(StaleVersion):
        services.account_restore(actor=personas.owner, account=stale)
